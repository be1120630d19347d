// ActionEditor implementation (see action_editor.h).
#include "ui/widgets/action_editor.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSet>
#include <QVBoxLayout>

#include "core/conversation/action.h"
#include "ui/widgets/python_highlighter.h"

namespace matrix::ui {

namespace {
const QString kEndAction = QString::fromUtf8(conversation::k_end_action.data(), qsizetype(conversation::k_end_action.size()));

bool isAllowedCall(const QString& name, const QString& code) {
    static const QSet<QString> builtins = {
        "print", "len", "range", "sum", "min", "max", "round", "sorted", "reversed", "list", "dict", "set", "tuple",
        "int", "float", "str", "bool", "abs", "enumerate", "zip", "map", "filter", "open", "isinstance", "any",
        "all", "type", "format", "divmod", "pow", "next", "iter", "repr", "hasattr", "getattr", "chr", "ord"};
    if (builtins.contains(name) || name.contains('.')) return true;  // methods / module functions are fine
    const QRegularExpression def(QStringLiteral("\\b(?:def|class)\\s+%1\\b|\\bimport\\b[^\\n]*\\b%1\\b")
                                     .arg(QRegularExpression::escape(name)));
    return def.match(code).hasMatch();
}
}  // namespace

ActionEditor::ActionEditor(QWidget* parent)
    : QDialog(parent),
      m_thought(new QPlainTextEdit(this)),
      m_code(new QPlainTextEdit(this)),
      m_warningLabel(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this)) {
    setWindowTitle(tr("Edit action"));
    resize(760, 560);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("<b>Thought:</b>"), this));
    m_thought->setTabChangesFocus(true);
    m_thought->setMaximumHeight(140);
    layout->addWidget(m_thought);
    layout->addWidget(new QLabel(tr("<b>Code:</b> (Python, inside the ```py fence)"), this));
    m_code->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_code->setLineWrapMode(QPlainTextEdit::NoWrap);
    new PythonHighlighter(m_code->document());
    layout->addWidget(m_code, 1);
    m_warningLabel->setWordWrap(true);
    layout->addWidget(m_warningLabel);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_thought, &QPlainTextEdit::textChanged, this, &ActionEditor::revalidate);
    connect(m_code, &QPlainTextEdit::textChanged, this, &ActionEditor::revalidate);
    revalidate();
}

QString ActionEditor::compose(const QString& thought, const QString& code, bool endAction) {
    const std::string text = conversation::render_action(thought.trimmed().toStdString(), code.trimmed().toStdString());
    return QString::fromStdString(text) + (endAction ? kEndAction : QString());
}

void ActionEditor::setAction(const QString& action) {
    QString text = action;
    m_endAction = text.endsWith(kEndAction);
    if (m_endAction) text.chop(kEndAction.size());
    const auto parsed = conversation::parse_action(text.toStdString());
    if (parsed.has_thought || parsed.has_code) {
        m_thought->setPlainText(QString::fromStdString(parsed.thought));
        m_code->setPlainText(QString::fromStdString(parsed.code));
    } else {  // no structure at all (a format-error candidate): keep the text as the thought
        m_thought->setPlainText(text.trimmed());
        m_code->clear();
    }
    revalidate();
}

QString ActionEditor::action() const { return compose(m_thought->toPlainText(), m_code->toPlainText(), m_endAction); }

QStringList ActionEditor::validate(const QString& action) {
    QStringList w;
    const auto parsed = conversation::parse_action(action.toStdString());
    if (!parsed.has_thought || QString::fromStdString(parsed.thought).trimmed().isEmpty()) w << tr("The thought is empty.");
    if (!parsed.has_code || QString::fromStdString(parsed.code).trimmed().isEmpty()) {
        w << tr("The code is empty: the agent must call a tool or final_answer.");
        return w;
    }
    if (!parsed.code_parses) w << tr("The code does not parse (unbalanced brackets or quotes).");
    const QString code = QString::fromStdString(parsed.code);
    QStringList unknown;
    for (const auto& call : parsed.tool_calls) {
        const QString name = QString::fromStdString(call.name);
        if (!call.known && !isAllowedCall(name, code) && !unknown.contains(name)) unknown << name;
    }
    if (!unknown.isEmpty()) w << tr("Calls unknown tool(s): %1.").arg(unknown.join(", "));
    return w;
}

void ActionEditor::revalidate() {
    m_warnings = validate(action());
    if (m_warnings.isEmpty()) {
        m_warningLabel->setText(tr("<span style='color:#0b5d1e'>\u2713 Thought and code are well formed.</span>"));
    } else {
        QString html = QStringLiteral("<span style='color:#a4260d'>");
        for (const QString& w : m_warnings) html += QStringLiteral("\u26a0 %1<br>").arg(w.toHtmlEscaped());
        m_warningLabel->setText(html + QStringLiteral("</span>"));
    }
}

}  // namespace matrix::ui
