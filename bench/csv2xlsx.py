"""Writes a CSV as an XLSX workbook the way Excel saves one: every text cell
in the shared-strings table. Used by bench/import-xlsx.sh with SHARED=1.

    python3 bench/csv2xlsx.py IN.csv OUT.xlsx      (needs: pip install xlsxwriter)
"""
import csv
import sys

import xlsxwriter

src, dst = sys.argv[1], sys.argv[2]
book = xlsxwriter.Workbook(dst)
sheet = book.add_worksheet("名录")
with open(src, encoding="utf-8-sig", newline="") as f:
    for r, row in enumerate(csv.reader(f)):
        for c, v in enumerate(row):
            if v:
                sheet.write_string(r, c, v)
book.close()
