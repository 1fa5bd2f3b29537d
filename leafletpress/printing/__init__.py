"""Stage 4, printing: finished PDFs become paper-ready files.

Takes leaflet PDFs; gives A5 pages imposed as saddle-stitched booklets on A4 (``booklet``) and
a campus's print file with fresh sheets for duplex printing and optional separator sheets
(``printfile``).
"""
