// CollapsibleText implementation (see collapsible_text.h).
#include "ui/widgets/collapsible_text.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QToolButton>
#include <QVBoxLayout>

namespace matrix::ui {

CollapsibleText::CollapsibleText(QWidget* parent, int collapsedLines)
    : QWidget(parent),
      m_collapsedLines(collapsedLines),
      m_title(new QLabel(this)),
      m_toggle(new QToolButton(this)),
      m_edit(new QPlainTextEdit(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(1);
    auto* head = new QHBoxLayout;
    m_title->setStyleSheet(QStringLiteral("font-weight:bold"));
    head->addWidget(m_title, 1);
    m_toggle->setAutoRaise(true);
    head->addWidget(m_toggle);
    layout->addLayout(head);
    m_edit->setReadOnly(true);
    m_edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_edit->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    layout->addWidget(m_edit, 1);
    layout->addStretch(0);  // space the (height-capped) text does not use stays below it
    connect(m_toggle, &QToolButton::clicked, this, [this] { setCollapsed(!m_collapsed); });
    refresh();
}

void CollapsibleText::setTitle(const QString& title) {
    m_title->setText(title);
    m_title->setVisible(!title.isEmpty());
}

void CollapsibleText::setText(const QString& text, bool isError) {
    m_text = text;
    m_error = isError;
    m_collapsed = true;
    refresh();
}

bool CollapsibleText::isCollapsible() const { return m_text.count('\n') + 1 > m_collapsedLines; }

void CollapsibleText::setCollapsed(bool collapsed) {
    m_collapsed = collapsed;
    refresh();
}

void CollapsibleText::refresh() {
    const int lines = int(m_text.count('\n')) + 1;
    QString shown = m_text;
    if (isCollapsible() && m_collapsed) shown = m_text.section('\n', 0, m_collapsedLines - 1) + QStringLiteral("\n\u2026");
    m_edit->setPlainText(shown);
    m_toggle->setVisible(isCollapsible());
    m_toggle->setText(m_collapsed ? tr("Show all %1 lines").arg(lines) : tr("Collapse"));
    m_edit->setStyleSheet(m_error ? QStringLiteral("QPlainTextEdit { background:#fdecea; color:#8a1c12; }")
                                  : QStringLiteral("QPlainTextEdit { background:#f6f6f4; }"));
    const int shownLines = std::min(lines, m_collapsed ? m_collapsedLines + 1 : 40);
    const int lineH = m_edit->fontMetrics().lineSpacing();
    m_edit->setMinimumHeight(std::min(std::max(2, shownLines), 12) * lineH + 12);
    // Never taller than the text: short observations and an empty prefix leave the space to other widgets.
    // (at least 5 lines: one long line wraps).
    m_edit->setMaximumHeight(std::max(5, m_collapsed ? shownLines : std::min(lines, 60)) * lineH + 14);
}

}  // namespace matrix::ui
