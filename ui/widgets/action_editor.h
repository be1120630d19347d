// ActionEditor: edits an agent action while keeping its `Thought:` / `Code:` structure (two fields, recomposed
// as "Thought: ...\n\nCode:\n```py\n...\n```"), and warns live when the code does not parse, a part is empty,
// or the code calls a function that is neither a known tool, a Python builtin nor defined in the code
// (matrix::conversation::parse_action does the parsing). UI thread only.
#pragma once

#include <QDialog>
#include <QStringList>

class QLabel;
class QPlainTextEdit;
class QDialogButtonBox;

namespace matrix::ui {

class ActionEditor : public QDialog {
    Q_OBJECT
public:
    explicit ActionEditor(QWidget* parent = nullptr);

    void setAction(const QString& action);
    QString action() const;
    QStringList warnings() const { return m_warnings; }
    QPlainTextEdit* thoughtEdit() const { return m_thought; }
    QPlainTextEdit* codeEdit() const { return m_code; }

    // The checks behind the warnings, usable without a dialog.
    static QStringList validate(const QString& action);
    static QString compose(const QString& thought, const QString& code, bool endAction = false);

private:
    void revalidate();

    QPlainTextEdit* m_thought;
    QPlainTextEdit* m_code;
    QLabel* m_warningLabel;
    QDialogButtonBox* m_buttons;
    QStringList m_warnings;
    bool m_endAction = false;
};

}  // namespace matrix::ui
