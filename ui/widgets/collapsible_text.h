// CollapsibleText: read-only monospace text (an observation, a prefix) that shows its first lines and a
// "Show all N lines" toggle when longer; an error state paints it red. Plain data in; UI thread only.
#pragma once

#include <QWidget>

class QPlainTextEdit;
class QToolButton;
class QLabel;

namespace matrix::ui {

class CollapsibleText : public QWidget {
    Q_OBJECT
public:
    explicit CollapsibleText(QWidget* parent = nullptr, int collapsedLines = 10);

    void setTitle(const QString& title);
    void setText(const QString& text, bool isError = false);
    QString text() const { return m_text; }
    bool isCollapsed() const { return m_collapsed; }
    bool isCollapsible() const;
    bool isError() const { return m_error; }
    QPlainTextEdit* editor() const { return m_edit; }

public slots:
    void setCollapsed(bool collapsed);

private:
    void refresh();

    QString m_text;
    bool m_error = false;
    bool m_collapsed = true;
    int m_collapsedLines;
    QLabel* m_title;
    QToolButton* m_toggle;
    QPlainTextEdit* m_edit;
};

}  // namespace matrix::ui
