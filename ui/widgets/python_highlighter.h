// Python syntax highlighting for the agent's code blocks (keywords, builtins, MATRIX tool names, strings
// including triple-quoted ones across lines, numbers, comments). Attach to any QTextDocument. UI thread only.
#pragma once

#include <QRegularExpression>
#include <QSyntaxHighlighter>
#include <QTextCharFormat>
#include <QVector>

namespace matrix::ui {

class PythonHighlighter : public QSyntaxHighlighter {
    Q_OBJECT
public:
    explicit PythonHighlighter(QTextDocument* document);

    // Format names for tests: "keyword", "builtin", "tool", "string", "number", "comment".
    QTextCharFormat formatFor(const QString& name) const;

protected:
    void highlightBlock(const QString& text) override;

private:
    struct Rule {
        QRegularExpression pattern;
        QTextCharFormat format;
    };
    QVector<Rule> m_rules;
    QTextCharFormat m_string, m_comment, m_keyword, m_builtin, m_tool, m_number;
};

}  // namespace matrix::ui
