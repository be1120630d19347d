// DOCX, XLSX and PPTX as text: libarchive reads the zip, a small XML scanner walks the parts that hold the text
// (word/document.xml; xl/sharedStrings.xml and xl/worksheets/sheetN.xml; ppt/slides/slideN.xml). Formatting,
// images and formulas are left out; XLSX cells give their stored values.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <functional>
#include <map>
#include <regex>

#include "core/formats/documents/document_text.h"

namespace matrix::formats {

namespace {

constexpr size_t k_max_part_bytes = 64u << 20;  // a zip entry larger than this is refused (zip bombs)

// The zip's entries whose names `want` accepts, name -> content.
Result<std::map<std::string, std::string>> read_zip(const std::string& file, const std::function<bool(const std::string&)>& want) {
    std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
    archive_read_support_format_zip(a.get());
    if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
        return make_error(std::string("not a readable Office file (zip): ") + archive_error_string(a.get()), file);
    std::map<std::string, std::string> parts;
    archive_entry* entry = nullptr;
    int rc;
    while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
        const char* name = archive_entry_pathname(entry);
        if (!name || !want(name)) continue;
        std::string data;
        char buf[1 << 16];
        la_ssize_t n;
        while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) {
            data.append(buf, static_cast<size_t>(n));
            if (data.size() > k_max_part_bytes) return make_error(std::string("the part ") + name + " is too large", file);
        }
        if (n < 0) return make_error(std::string("damaged zip entry ") + name + ": " + archive_error_string(a.get()), file);
        parts[name] = std::move(data);
    }
    if (rc != ARCHIVE_EOF) return make_error(std::string("damaged zip: ") + archive_error_string(a.get()), file);
    return parts;
}

struct XmlTag {
    std::string name;   // with its prefix ("w:t")
    std::string attrs;  // the raw attribute text
    bool end = false, self_closing = false;
};

// Calls on_tag for each tag and on_text for the (entity-decoded) text between tags.
void scan_xml(const std::string& xml, const std::function<void(const XmlTag&)>& on_tag,
              const std::function<void(const std::string&)>& on_text) {
    size_t i = 0;
    while (i < xml.size()) {
        const size_t lt = xml.find('<', i);
        if (lt > i) on_text(decode_xml_entities(xml.substr(i, (lt == std::string::npos ? xml.size() : lt) - i)));
        if (lt == std::string::npos) break;
        const size_t gt = xml.find('>', lt);
        if (gt == std::string::npos) break;
        std::string body = xml.substr(lt + 1, gt - lt - 1);
        i = gt + 1;
        if (body.empty() || body[0] == '?' || body[0] == '!') continue;
        XmlTag t;
        t.end = body[0] == '/';
        if (t.end) body.erase(0, 1);
        t.self_closing = !body.empty() && body.back() == '/';
        if (t.self_closing) body.pop_back();
        const size_t sp = body.find_first_of(" \t\r\n");
        t.name = body.substr(0, sp);
        t.attrs = sp == std::string::npos ? "" : body.substr(sp);
        on_tag(t);
    }
}

std::string attr(const std::string& attrs, const std::string& name) {
    const std::regex re("(^|\\s)" + name + "=\"([^\"]*)\"");
    std::smatch m;
    return std::regex_search(attrs, m, re) ? decode_xml_entities(m[2].str()) : std::string();
}

// Paragraph text of WordprocessingML or DrawingML: text runs (<w:t>, <a:t>), tabs and breaks, one line per
// paragraph.
std::string paragraphs(const std::string& xml, const std::string& prefix) {
    std::string out, line;
    bool in_text = false;
    scan_xml(
        xml,
        [&](const XmlTag& t) {
            if (t.name == prefix + ":t") in_text = !t.end && !t.self_closing;
            else if (t.name == prefix + ":tab" && !t.end) line += '\t';
            else if ((t.name == prefix + ":br" || t.name == prefix + ":cr") && !t.end) line += '\n';
            else if (t.name == prefix + ":p" && (t.end || t.self_closing)) {
                out += line + "\n";
                line.clear();
            }
        },
        [&](const std::string& text) {
            if (in_text) line += text;
        });
    out += line;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

// "sheet12.xml" -> 12 (file order of numbered parts).
int part_number(const std::string& name) {
    const size_t dot = name.rfind('.');
    size_t start = dot;
    while (start > 0 && std::isdigit(static_cast<unsigned char>(name[start - 1]))) --start;
    return start < dot ? std::stoi(name.substr(start, dot - start)) : 0;
}

std::vector<std::string> numbered(const std::map<std::string, std::string>& parts, const std::string& prefix) {
    std::vector<std::string> names;
    for (const auto& [name, data] : parts)
        if (name.rfind(prefix, 0) == 0 && name.find('/', prefix.size()) == std::string::npos) names.push_back(name);
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) { return part_number(a) < part_number(b); });
    return names;
}

// Column index of a cell reference ("C7" -> 2).
int column_of(const std::string& ref) {
    int col = 0;
    for (char c : ref) {
        if (c < 'A' || c > 'Z') break;
        col = col * 26 + (c - 'A' + 1);
    }
    return col - 1;
}

std::string xlsx_text(const std::map<std::string, std::string>& parts) {
    std::vector<std::string> shared;
    if (auto it = parts.find("xl/sharedStrings.xml"); it != parts.end()) {
        std::string current;
        bool in_t = false;
        scan_xml(
            it->second,
            [&](const XmlTag& t) {
                if (t.name == "t") in_t = !t.end && !t.self_closing;
                else if (t.name == "si" && t.end) {
                    shared.push_back(current);
                    current.clear();
                } else if (t.name == "si" && t.self_closing) {
                    shared.emplace_back();
                }
            },
            [&](const std::string& text) {
                if (in_t) current += text;
            });
    }
    std::vector<std::string> sheet_names;
    if (auto it = parts.find("xl/workbook.xml"); it != parts.end())
        scan_xml(it->second, [&](const XmlTag& t) { if (t.name == "sheet" && !t.end) sheet_names.push_back(attr(t.attrs, "name")); },
                 [](const std::string&) {});
    std::string out;
    const auto sheets = numbered(parts, "xl/worksheets/sheet");
    for (size_t s = 0; s < sheets.size(); ++s) {
        std::vector<std::vector<std::string>> rows;
        std::string type, ref, value;
        bool in_value = false;
        scan_xml(
            parts.at(sheets[s]),
            [&](const XmlTag& t) {
                if (t.name == "row" && !t.end) rows.emplace_back();
                else if (t.name == "c" && !t.end) {
                    type = attr(t.attrs, "t");
                    ref = attr(t.attrs, "r");
                    value.clear();
                } else if ((t.name == "v" || t.name == "t") && !t.self_closing) {
                    in_value = !t.end;
                }
                if (t.name == "c" && (t.end || t.self_closing) && !rows.empty()) {
                    std::string cell = value;
                    if (type == "s") {
                        try {
                            const size_t k = std::stoul(value);
                            cell = k < shared.size() ? shared[k] : "";
                        } catch (const std::exception&) {
                            cell.clear();
                        }
                    } else if (type == "b") {
                        cell = value == "1" ? "TRUE" : "FALSE";
                    }
                    const int col = ref.empty() ? int(rows.back().size()) : column_of(ref);
                    if (col >= 0 && col < 16384) {
                        if (int(rows.back().size()) <= col) rows.back().resize(col + 1);
                        rows.back()[col] = cell;
                    }
                }
            },
            [&](const std::string& text) {
                if (in_value) value += text;
            });
        rows.erase(std::remove_if(rows.begin(), rows.end(), [](const auto& r) { return r.empty(); }), rows.end());
        std::string csv;  // reuse the CSV table writer: quote every cell
        for (const auto& r : rows) {
            for (size_t k = 0; k < r.size(); ++k) {
                std::string q;
                for (char c : r[k]) q += c == '"' ? std::string("\"\"") : std::string(1, c);
                csv += (k ? "," : "") + ("\"" + q + "\"");
            }
            csv += "\n";
        }
        const std::string name = s < sheet_names.size() && !sheet_names[s].empty() ? sheet_names[s] : "Sheet" + std::to_string(s + 1);
        out += (out.empty() ? "" : "\n\n") + ("## " + name + "\n\n") + csv_to_markdown(csv);
    }
    return out;
}

}  // namespace

Result<std::string> office_text(const std::string& file, const std::string& kind) {
    if (kind == "docx") {
        MATRIX_TRY(auto parts, read_zip(file, [](const std::string& n) { return n == "word/document.xml"; }));
        if (!parts.count("word/document.xml")) return make_error("not a Word document (no word/document.xml)", file);
        return paragraphs(parts["word/document.xml"], "w");
    }
    if (kind == "pptx") {
        MATRIX_TRY(auto parts, read_zip(file, [](const std::string& n) { return n.rfind("ppt/slides/slide", 0) == 0; }));
        std::string out;
        int k = 0;
        for (const std::string& name : numbered(parts, "ppt/slides/slide"))
            out += (out.empty() ? "" : "\n\n") + ("## Slide " + std::to_string(++k) + "\n\n") + paragraphs(parts[name], "a");
        if (k == 0) return make_error("not a PowerPoint file (no slides)", file);
        return out;
    }
    if (kind == "xlsx") {
        MATRIX_TRY(auto parts, read_zip(file, [](const std::string& n) {
                       return n == "xl/sharedStrings.xml" || n == "xl/workbook.xml" || n.rfind("xl/worksheets/sheet", 0) == 0;
                   }));
        if (numbered(parts, "xl/worksheets/sheet").empty()) return make_error("not an Excel workbook (no sheets)", file);
        return xlsx_text(parts);
    }
    return make_error("not an Office format: " + kind, file);
}

}  // namespace matrix::formats
