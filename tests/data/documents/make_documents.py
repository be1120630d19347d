#!/usr/bin/env python3
"""Writes the minimal Office files the inspect_file_as_text plugin's test reads (report.docx, sales.xlsx,
deck.pptx): the XML parts that hold text, as Word, Excel and PowerPoint write them, without styles. Run it in
this folder; the files are committed, so the tests do not need Python. Deterministic (fixed zip timestamps)."""
import zipfile

def write(name, parts):
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in parts.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)

CT = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
write("report.docx", {
    "[Content_Types].xml": CT + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "word/document.xml": CT + f'<w:document {W}><w:body>'
        '<w:p><w:r><w:t>Quarterly report</w:t></w:r></w:p>'
        '<w:p><w:r><w:t xml:space="preserve">Revenue grew by </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>12%</w:t></w:r>'
        '<w:r><w:t xml:space="preserve"> to 4.2 million &amp; costs fell.</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>Region</w:t><w:tab/><w:t>North</w:t></w:r></w:p>'
        '</w:body></w:document>',
})
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
write("sales.xlsx", {
    "[Content_Types].xml": CT + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "xl/workbook.xml": CT + f'<workbook {S}><sheets><sheet name="Sales" sheetId="1"/><sheet name="Notes" sheetId="2"/></sheets></workbook>',
    "xl/sharedStrings.xml": CT + f'<sst {S} count="4" uniqueCount="4"><si><t>Item</t></si><si><t>Price</t></si>'
        '<si><t>Tea</t></si><si><r><t>Cof</t></r><r><t>fee</t></r></si></sst>',
    "xl/worksheets/sheet1.xml": CT + f'<worksheet {S}><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>3.5</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>3</v></c><c r="C3" t="b"><v>1</v></c></row>'
        '</sheetData></worksheet>',
    "xl/worksheets/sheet2.xml": CT + f'<worksheet {S}><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>prices in EUR</t></is></c></row>'
        '</sheetData></worksheet>',
})
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
def slide(*paras):
    body = "".join(f"<a:p><a:r><a:t>{t}</a:t></a:r></a:p>" for t in paras)
    return CT + f'<p:sld {A}><p:cSld><p:spTree><p:sp><p:txBody>{body}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>'
write("deck.pptx", {
    "[Content_Types].xml": CT + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "ppt/slides/slide1.xml": slide("Launch plan", "Ship in May"),
    "ppt/slides/slide2.xml": slide("Risks"),
    "ppt/slides/slide10.xml": slide("Appendix"),
})
