// A document as text for inspect_file_as_text, like the reference's file-to-markdown step: plain text as it is,
// CSV and XLSX sheets as Markdown tables, JSON pretty-printed, HTML without its markup, PDF page by page (poppler),
// DOCX paragraphs and PPTX slides from their XML (libarchive reads the zip). Pure functions; thread-safe.
#pragma once

#include <string>

#include "core/util/result.h"

namespace matrix::plugins {

// The file's kind from its extension and first bytes: "text", "csv", "json", "html", "pdf", "docx", "xlsx",
// "pptx", "audio", "image", "binary".
std::string document_kind(const std::string& file);

// The document's text; errors name the file and what could not be read.
Result<std::string> document_text(const std::string& file);

// Parts of the above, for tests and the office formats.
std::string csv_to_markdown(const std::string& csv, char separator = ',');
std::string html_to_text(const std::string& html);
std::string decode_xml_entities(const std::string& s);
Result<std::string> office_text(const std::string& file, const std::string& kind);  // docx, xlsx, pptx

}  // namespace matrix::plugins
