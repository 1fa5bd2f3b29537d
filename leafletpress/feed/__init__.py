"""The appointment feed: the hospital system's messages read as day-list rows.

Takes one message from the hospital system's interface engine: HL7 v2 (SIU^S12-S15, ADT^A03)
read with python-hl7 (``hl7v2``), or a FHIR R4 Appointment with its Patient validated with
fhir.resources (``fhir``); gives an ``Event`` with only the fields a leaflet needs, and the row
of a day list it becomes, under the hospital's own column names, with the codes mapped by
``config/koppeling.yaml`` (``events``, ``mapping``). The web app stores each message before
it acknowledges it and builds the day's lists from the rows (web/feed.py), so a list from the
feed is read, checked and made exactly as an uploaded one is.

Guarantees: nothing of a message is ever evaluated; a field we do not use is never kept; a
message we cannot read or use is refused with the reason in Dutch (``Malformed``: AR, HTTP
400; ``Unusable``: AE, HTTP 422); a code the mapping does not know is said, never guessed.
"""
