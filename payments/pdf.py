"""A tax invoice or credit note as PDF, drawn with fpdf2 from the same context as the printable page.

DejaVu Sans (Debian's fonts-dejavu-core, present on the app servers) is embedded when found, so the
rupee sign and accented Latin print; without it the core Helvetica font is used and amounts read "Rs."
(Helvetica has no ₹). Neither font has Devanagari: such a name prints as missing glyphs in the PDF, while
the printable HTML page shows it (the browser's fonts).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF

from cerebrum.money import format_inr

# fpdf2 subsets the embedded font with fontTools, which logs every pruned table at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def tax_document_pdf(context: dict) -> bytes:
    """The PDF bytes of `selectors.tax_document_context(...)`: A4, one page."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    unicode_font = _use_font(pdf)
    money = (lambda paise: format_inr(paise, always_paise=True)) if unicode_font else _rs
    text = (lambda value: str(value)) if unicode_font else _latin1
    document, supplier = context["document"], context["supplier"]

    pdf.set_font(size=16, style="B")
    pdf.cell(0, 9, text(context["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=10)
    for line in (supplier["name"], supplier["address"], f"GSTIN {supplier['gstin']} · State {supplier['state']}"):
        pdf.cell(0, 5, text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    facts = [
        ("Number", document.number),
        ("Date", f"{document.issued_at:%d %b %Y}"),
        ("Against invoice", context["against"]),
        ("Billed to", document.buyer_name),
        ("Contact", document.buyer_contact),
        ("Place of supply", context["place_of_supply"]),
    ]
    for label, value in facts:
        if value:
            pdf.cell(40, 6, text(label))
            pdf.cell(0, 6, text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    rows = [(f"{document.description} (SAC {document.sac_code})", money(context["list_price_paise"]))]
    if context["discount_paise"]:
        rows.append((f"Coupon {context['coupon_code']}", "-" + money(context["discount_paise"])))
    rows.append(("Taxable value", money(document.taxable_paise)))
    if document.igst_paise:
        rows.append((f"IGST {document.gst_rate_percent}%", money(document.igst_paise)))
    else:
        rows.append((f"CGST {context['half_rate']:g}%", money(document.cgst_paise)))
        rows.append((f"SGST {context['half_rate']:g}%", money(document.sgst_paise)))
    rows.append(("Total (GST inclusive)", money(document.total_paise)))
    for label, amount in rows:
        pdf.cell(130, 7, text(label), border=1)
        pdf.cell(0, 7, amount, border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _use_font(pdf: FPDF) -> bool:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            pdf.set_font("DejaVu")
            return True
    pdf.set_font("Helvetica")
    return False


def _rs(paise: int) -> str:
    return format_inr(paise, always_paise=True).replace("₹", "Rs. ")


def _latin1(value) -> str:
    return str(value).replace("·", "-").encode("latin-1", "replace").decode("latin-1")
