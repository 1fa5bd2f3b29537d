"""Stage 5, the clinic day: a planned list becomes every leaflet, print files and a manifest.

Takes a ``Plan`` (stage 2); gives, per day folder, each patient's PDF, one print file per
campus and ``manifest.json``/``manifest.csv`` (``manifest``). ``batch`` runs it, ``workers``
render in parallel processes, ``journal`` makes it resumable, and ``finish`` builds the print
files and manifest from the files on disk.

Guarantees: an interrupted day, run again, ends byte for byte as one that ran through; one
batch at a time per day folder; no patient name in the manifest.
"""
