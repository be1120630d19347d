// A document as text, like the reference's file-to-markdown step: plain text as it is, CSV and XLSX sheets as
// Markdown tables, JSON pretty-printed, HTML without its markup, PDF page by page (poppler-cpp), DOCX paragraphs
// and PPTX slides from their XML (libarchive reads the zip). One implementation for the agent's
// inspect_file_as_text tool (plugins/, which links no core library: this folder is its own small static library,
// matrix_documents, see core/CMakeLists.txt) and the synthesis pipeline's query-file verifier (core/synth).
// Built only where poppler-cpp and libarchive are found; its users see MATRIX_HAVE_DOCUMENTS=1 then.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "core/util/result.h"

namespace matrix::formats {

// The file's kind from its extension and first bytes: "text", "csv", "json", "html", "pdf", "docx", "xlsx",
// "pptx", "audio", "image", "binary".
std::string document_kind(const std::string& file);

// The document's text; errors name the file and what could not be read.
Result<std::string> document_text(const std::string& file);

// `text` cut to at most `max_bytes` (whole UTF-8 characters) followed by a line saying how much it had:
// "\n[... the document has N characters; the first M are shown]"; unchanged when it fits.
std::string cap_document_text(const std::string& text, size_t max_bytes);

// Parts of the above, for tests and the office formats.
std::string csv_to_markdown(const std::string& csv, char separator = ',');
std::string html_to_text(const std::string& html);
std::string decode_xml_entities(const std::string& s);
Result<std::string> office_text(const std::string& file, const std::string& kind);  // docx, xlsx, pptx

}  // namespace matrix::formats
