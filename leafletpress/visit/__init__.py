"""Stage 2, the visit: who comes for what, where and when, resolved against the content.

Takes a visit as typed on the command line, or a clinic-day list (CSV or XLSX, ``daylist``);
gives a validated ``Visit`` (``appointment``), its ``Personalisation`` with derived times,
warnings and placeholder values (``personalise``), the leaflet's file name (``naming``), and
for a list a ``Plan``: the entries to make and the rows refused (``plan``).

Guarantees: no patient name in any file name; every refusal names its row, column and a hint;
a bad row never stops the good ones.
"""
