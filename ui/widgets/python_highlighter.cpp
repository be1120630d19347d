// Rules of PythonHighlighter (see python_highlighter.h). Multi-line strings use block state 1 (''') / 2 (""").
#include "ui/widgets/python_highlighter.h"

namespace matrix::ui {

namespace {
QTextCharFormat fmt(QColor c, bool bold = false, bool italic = false) {
    QTextCharFormat f;
    f.setForeground(c);
    if (bold) f.setFontWeight(QFont::Bold);
    f.setFontItalic(italic);
    return f;
}
}  // namespace

PythonHighlighter::PythonHighlighter(QTextDocument* document) : QSyntaxHighlighter(document) {
    m_keyword = fmt(QColor(0, 0, 160), true);
    m_builtin = fmt(QColor(120, 40, 150));
    m_tool = fmt(QColor(190, 90, 0), true);
    m_string = fmt(QColor(10, 120, 40));
    m_number = fmt(QColor(170, 30, 30));
    m_comment = fmt(QColor(120, 120, 120), false, true);

    const QStringList keywords = {"and", "as", "assert", "break", "class", "continue", "def", "del", "elif", "else",
                                  "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
                                  "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
                                  "yield", "True", "False", "None"};
    const QStringList builtins = {"print", "len", "range", "sum", "min", "max", "round", "sorted", "list", "dict",
                                  "set", "tuple", "int", "float", "str", "abs", "enumerate", "zip", "map", "filter",
                                  "open", "isinstance", "any", "all"};
    const QStringList tools = {"visualizer", "ask_search_agent", "inspect_file_as_text", "objectlocation",
                               "facedetection", "segmentation", "image_edit", "image_generator", "ocr",
                               "final_answer"};
    auto words = [](const QStringList& list) {
        return QRegularExpression(QStringLiteral("\\b(?:%1)\\b").arg(list.join('|')));
    };
    m_rules.push_back({words(keywords), m_keyword});
    m_rules.push_back({words(builtins), m_builtin});
    m_rules.push_back({words(tools), m_tool});
    m_rules.push_back({QRegularExpression(QStringLiteral(R"(\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)")), m_number});
    // Single-line strings (with an optional f/r/b prefix); comments are handled in highlightBlock.
    m_rules.push_back({QRegularExpression(QStringLiteral(R"([rbfRBF]?"(?:[^"\\]|\\.)*"|[rbfRBF]?'(?:[^'\\]|\\.)*')")),
                       m_string});
}

QTextCharFormat PythonHighlighter::formatFor(const QString& name) const {
    if (name == "keyword") return m_keyword;
    if (name == "builtin") return m_builtin;
    if (name == "tool") return m_tool;
    if (name == "string") return m_string;
    if (name == "number") return m_number;
    if (name == "comment") return m_comment;
    return {};
}

void PythonHighlighter::highlightBlock(const QString& text) {
    for (const Rule& rule : m_rules) {
        auto it = rule.pattern.globalMatch(text);
        while (it.hasNext()) {
            const auto m = it.next();
            setFormat(int(m.capturedStart()), int(m.capturedLength()), rule.format);
        }
    }
    // Comments: a '#' that is not inside a string (strings were formatted above).
    for (int i = 0; i < text.size(); ++i) {
        if (text[i] == '#' && format(i) != m_string) {
            setFormat(i, int(text.size()) - i, m_comment);
            break;
        }
    }
    // Triple-quoted strings spanning blocks.
    setCurrentBlockState(0);
    int start = 0;
    for (int state = 1; state <= 2; ++state) {
        const QString delim = state == 1 ? QStringLiteral("'''") : QStringLiteral("\"\"\"");
        int from = previousBlockState() == state ? 0 : int(text.indexOf(delim, start));
        int skip = previousBlockState() == state ? 0 : 3;
        while (from >= 0) {
            const int end = int(text.indexOf(delim, from + skip));
            int len;
            if (end < 0) {
                setCurrentBlockState(state);
                len = int(text.size()) - from;
            } else {
                len = end - from + 3;
            }
            setFormat(from, len, m_string);
            if (end < 0) return;
            from = int(text.indexOf(delim, from + len));
            skip = 3;
        }
    }
}

}  // namespace matrix::ui
