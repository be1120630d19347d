// See document_text.h.
#include "core/formats/documents/document_text.h"

#include "core/util/utf8.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace matrix::formats {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

Result<std::string> read_all(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error("cannot read the file", file);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool valid_utf8_without_nul(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = s[i];
        if (c == 0) return false;
        int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (n < 0) return false;
        // A sample may end inside a character.
        if (i + n >= s.size()) return true;
        for (int k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
        i += n + 1;
    }
    return true;
}

// One CSV record's fields (RFC 4180 quotes; a quoted field may hold separators and newlines).
std::vector<std::vector<std::string>> parse_csv(const std::string& csv, char sep) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, any = false;
    for (size_t i = 0; i < csv.size(); ++i) {
        const char c = csv[i];
        if (quoted) {
            if (c == '"' && i + 1 < csv.size() && csv[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
            any = true;
        } else if (c == sep) {
            row.push_back(field);
            field.clear();
            any = true;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') ++i;
            if (any || !field.empty()) {
                row.push_back(field);
                rows.push_back(row);
            }
            row.clear();
            field.clear();
            any = false;
        } else {
            field += c;
            any = true;
        }
    }
    if (any || !field.empty()) {
        row.push_back(field);
        rows.push_back(row);
    }
    return rows;
}

std::string markdown_cell(std::string s) {
    std::string out;
    for (char c : s) {
        if (c == '|') out += "\\|";
        else if (c == '\n' || c == '\r') out += ' ';
        else out += c;
    }
    return out;
}

Result<std::string> pdf_text(const std::string& file) {
    // poppler prints its parser's complaints on stderr ("Couldn't read xref table"); the reason reaches the caller
    // as the Error below instead, so the CLI's stderr keeps its one-line contract.
    static std::once_flag quiet;
    std::call_once(quiet, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(file));
    if (!doc) return make_error("not a PDF that can be opened (damaged or not a PDF)", file);
    if (doc->is_locked()) return make_error("the PDF is password-protected", file);
    std::string out;
    const int n = doc->pages();
    for (int i = 0; i < n; ++i) {
        std::unique_ptr<poppler::page> page(doc->create_page(i));
        if (!page) continue;
        const poppler::byte_array bytes = page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
        std::string text(bytes.begin(), bytes.end());
        // Trailing spaces of the physical layout's lines carry nothing.
        std::string cleaned;
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
            while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\f')) line.pop_back();
            cleaned += line + "\n";
        }
        while (!cleaned.empty() && cleaned.back() == '\n') cleaned.pop_back();
        if (n > 1) out += (out.empty() ? "" : "\n\n") + std::string("## Page ") + std::to_string(i + 1) + "\n\n";
        out += cleaned;
    }
    return out;
}

}  // namespace

std::string document_kind(const std::string& file) {
    const std::string ext = lower(fs::path(file).extension().string());
    if (ext == ".csv" || ext == ".tsv") return "csv";
    if (ext == ".json" || ext == ".jsonl") return "json";
    if (ext == ".html" || ext == ".htm" || ext == ".xhtml") return "html";
    if (ext == ".pdf") return "pdf";
    if (ext == ".docx") return "docx";
    if (ext == ".xlsx") return "xlsx";
    if (ext == ".pptx") return "pptx";
    if (ext == ".mp3" || ext == ".wav" || ext == ".m4a" || ext == ".flac" || ext == ".ogg") return "audio";
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".gif" || ext == ".bmp" || ext == ".webp") return "image";
    std::ifstream in(file, std::ios::binary);
    std::string head(8192, '\0');
    in.read(head.data(), head.size());
    head.resize(static_cast<size_t>(in.gcount()));
    if (head.rfind("%PDF-", 0) == 0) return "pdf";
    if (!valid_utf8_without_nul(head)) return "binary";
    const std::string l = lower(head.substr(0, 512));
    if (l.find("<!doctype html") != std::string::npos || l.find("<html") != std::string::npos) return "html";
    return "text";
}

std::string csv_to_markdown(const std::string& csv, char separator) {
    const auto rows = parse_csv(csv, separator);
    if (rows.empty()) return {};
    size_t width = 0;
    for (const auto& r : rows) width = std::max(width, r.size());
    std::string out;
    for (size_t i = 0; i < rows.size(); ++i) {
        out += "|";
        for (size_t k = 0; k < width; ++k) out += " " + (k < rows[i].size() ? markdown_cell(rows[i][k]) : "") + " |";
        out += "\n";
        if (i == 0) {
            out += "|";
            for (size_t k = 0; k < width; ++k) out += " --- |";
            out += "\n";
        }
    }
    out.pop_back();
    return out;
}

std::string decode_xml_entities(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        const size_t semi = s.find(';', i);
        if (semi == std::string::npos || semi - i > 10) {
            out += '&';
            continue;
        }
        const std::string name = s.substr(i + 1, semi - i - 1);
        uint32_t cp = 0;
        if (name == "amp") cp = '&';
        else if (name == "lt") cp = '<';
        else if (name == "gt") cp = '>';
        else if (name == "quot") cp = '"';
        else if (name == "apos") cp = '\'';
        else if (name == "nbsp") cp = ' ';
        else if (name.size() > 1 && name[0] == '#') {
            try {
                cp = (name[1] == 'x' || name[1] == 'X') ? std::stoul(name.substr(2), nullptr, 16) : std::stoul(name.substr(1));
            } catch (const std::exception&) {
                cp = 0;
            }
        }
        if (cp == 0 || cp > 0x10FFFF) {
            out += '&';
            continue;
        }
        utf8::append(out, char32_t(cp));  // a surrogate (&#xD800;) becomes U+FFFD, as HTML decodes it
        i = semi;
    }
    return out;
}

std::string html_to_text(const std::string& html) {
    static const std::vector<std::string> blocks = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                                                    "table", "ul", "ol", "section", "article", "header", "footer",
                                                    "title", "blockquote", "pre", "hr"};
    std::string text;
    size_t i = 0;
    while (i < html.size()) {
        if (html[i] != '<') {
            const size_t next = html.find('<', i);
            const std::string chunk = html.substr(i, next == std::string::npos ? std::string::npos : next - i);
            for (char c : chunk) text += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
            if (next == std::string::npos) break;
            i = next;
            continue;
        }
        if (html.compare(i, 4, "<!--") == 0) {
            const size_t end = html.find("-->", i);
            i = end == std::string::npos ? html.size() : end + 3;
            continue;
        }
        const size_t close = html.find('>', i);
        if (close == std::string::npos) break;
        std::string tag = lower(html.substr(i + 1, close - i - 1));
        const bool end_tag = !tag.empty() && tag[0] == '/';
        if (end_tag) tag.erase(0, 1);
        const std::string name = tag.substr(0, tag.find_first_of(" \t\n/"));
        i = close + 1;
        if (!end_tag && (name == "script" || name == "style" || name == "head" || name == "noscript")) {
            const size_t end = lower(html.substr(i)).find("</" + name);
            i = end == std::string::npos ? html.size() : html.find('>', i + end) + 1;
            if (i == 0) i = html.size();
            continue;
        }
        // List items and table rows start a line; other blocks end one too.
        if (name == "li" || name == "tr") {
            if (!end_tag) text += '\n';
        } else if (std::find(blocks.begin(), blocks.end(), name) != blocks.end()) {
            text += '\n';
        }
        else if (name == "td" || name == "th") text += end_tag ? " |" : " ";
        if (!end_tag && name == "li") text += "- ";
        if (!end_tag && name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6')
            text += std::string(name[1] - '0', '#') + " ";
    }
    text = decode_xml_entities(text);
    // Collapse runs of spaces and of blank lines.
    std::string out;
    std::istringstream lines(text);
    bool blank = true;
    for (std::string line; std::getline(lines, line);) {
        std::string squeezed;
        for (char c : line)
            if (!(c == ' ' && (squeezed.empty() || squeezed.back() == ' '))) squeezed += c;
        while (!squeezed.empty() && squeezed.back() == ' ') squeezed.pop_back();
        if (squeezed.empty()) {
            if (!blank) out += "\n";
            blank = true;
            continue;
        }
        out += squeezed + "\n";
        blank = false;
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

std::string cap_document_text(const std::string& text, size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    const size_t cut = utf8::floor_boundary(text, max_bytes);  // whole characters
    return text.substr(0, cut) + "\n[... the document has " + std::to_string(text.size()) + " characters; the first " +
           std::to_string(cut) + " are shown]";
}

Result<std::string> document_text(const std::string& file) {
    const std::string kind = document_kind(file);
    if (kind == "pdf") return pdf_text(file);
    if (kind == "docx" || kind == "xlsx" || kind == "pptx") return office_text(file, kind);
    if (kind == "audio") return make_error("audio files need a transcription endpoint, and none is configured", file);
    if (kind == "image") return make_error("this is an image, not a document: use visualizer or ocr on it", file);
    if (kind == "binary") return make_error("not a document this tool can read (a binary file)", file);
    MATRIX_TRY(std::string raw, read_all(file));
    if (raw.size() >= 3 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.erase(0, 3);  // UTF-8 byte order mark
    if (kind == "csv") return csv_to_markdown(raw, lower(fs::path(file).extension().string()) == ".tsv" ? '\t' : ',');
    if (kind == "html") return html_to_text(raw);
    if (kind == "json") {
        nlohmann::json j = nlohmann::json::parse(raw, nullptr, false);
        if (!j.is_discarded()) return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return raw;
}

}  // namespace matrix::formats
