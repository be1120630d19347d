// PairCurationView implementation (see pair_curation_view.h).
#include "ui/views/pair_curation_view.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "ui/widgets/collapsible_text.h"
#include "ui/widgets/word_diff.h"

namespace matrix::ui {

namespace {
QString statusHtml(const QString& s) {
    const QString color = s == "approved" ? "#1b7a33" : s == "rejected" ? "#b3261e" : "#b26a00";
    return QStringLiteral("<span style='color:white; background-color:%1; font-weight:bold'>&nbsp;%2&nbsp;</span>")
        .arg(color, s.toUpper().toHtmlEscaped());
}
}  // namespace

const QStringList& PairCurationView::rejectionReasons() {
    static const QStringList reasons = {"wrong tool",      "wrong argument",   "hallucinated content", "ignores image",
                                        "premature answer", "format error", "other"};
    return reasons;
}

PairCurationView::PairCurationView(QWidget* parent)
    : QWidget(parent),
      m_progress(new QLabel(this)),
      m_position(new QLabel(this)),
      m_status(new QLabel(this)),
      m_task(new QLabel(this)),
      m_prefix(new CollapsibleText(this, 3)),
      m_similarity(new QLabel(this)),
      m_chosen(new QTextBrowser(this)),
      m_rejected(new QTextBrowser(this)),
      m_chosenObs(new CollapsibleText(this, 5)),
      m_rejectedObs(new CollapsibleText(this, 5)),
      m_reason(new QComboBox(this)),
      m_note(new QLineEdit(this)) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    top->addWidget(m_position);
    top->addWidget(m_status);
    top->addStretch(1);
    top->addWidget(m_progress);
    outer->addLayout(top);
    m_task->setWordWrap(true);
    m_task->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(m_task);
    outer->addWidget(m_prefix);

    auto* sides = new QSplitter(Qt::Horizontal, this);
    auto makeSide = [&](const QString& title, QTextBrowser* view, CollapsibleText* obs) {
        auto* w = new QWidget;
        auto* l = new QVBoxLayout(w);
        l->setContentsMargins(0, 0, 0, 0);
        auto* t = new QLabel(title, w);
        t->setTextFormat(Qt::RichText);
        l->addWidget(t);
        view->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        view->setMinimumHeight(120);
        l->addWidget(view, 3);
        obs->setTitle(tr("Observation"));
        l->addWidget(obs, 1);
        sides->addWidget(w);
    };
    makeSide(tr("<b style='color:#1b7a33'>1 \u00b7 Chosen</b>"), m_chosen, m_chosenObs);
    makeSide(tr("<b style='color:#b3261e'>2 \u00b7 Rejected</b>"), m_rejected, m_rejectedObs);
    outer->addWidget(m_similarity);
    outer->addWidget(sides, 1);

    auto* form = new QHBoxLayout;
    form->addWidget(new QLabel(tr("Reason:"), this));
    m_reason->addItem(tr("(none)"), QString());
    for (const QString& r : rejectionReasons()) m_reason->addItem(r, r);
    m_reason->setToolTip(tr("Why the rejected action is worse (or why the pair is discarded)"));
    form->addWidget(m_reason);
    form->addWidget(new QLabel(tr("Note:"), this));
    m_note->setPlaceholderText(tr("optional note, saved when you press Enter"));
    form->addWidget(m_note, 1);
    outer->addLayout(form);

    auto* buttons = new QHBoxLayout;
    auto addButton = [&](const QString& text, const QString& tip, auto signal) {
        auto* b = new QPushButton(text, this);
        b->setToolTip(tip);
        b->setFocusPolicy(Qt::NoFocus);  // keep single-key shortcuts with the window
        connect(b, &QPushButton::clicked, this, signal);
        buttons->addWidget(b);
        m_buttons << b;
    };
    addButton(tr("Approve (A)"), tr("Keep this pair for DPO"), &PairCurationView::approveRequested);
    addButton(tr("Reject (R)"), tr("Discard this pair (with the reason chosen)"), &PairCurationView::rejectRequested);
    addButton(tr("Swap"), tr("Swap chosen and rejected (Ctrl+Shift+S)"), &PairCurationView::swapRequested);
    addButton(tr("Edit chosen (E)"), tr("Edit the chosen action"), &PairCurationView::editRequested);
    addButton(tr("Next pending (Space)"), tr("Go to the next pending pair"), &PairCurationView::nextPendingRequested);
    buttons->addStretch(1);
    outer->addLayout(buttons);

    connect(m_reason, qOverload<int>(&QComboBox::activated), this,
            [this](int i) { emit reasonChosen(m_reason->itemData(i).toString()); });
    connect(m_note, &QLineEdit::editingFinished, this, [this] {
        if (m_pair.valid() && m_note->text() != m_pair.note) emit noteEdited(m_note->text());
    });
    setPair({});
}

void PairCurationView::setPair(const PairData& pair, int position, int count) {
    m_pair = pair;
    for (QPushButton* b : m_buttons) b->setEnabled(pair.valid());
    m_reason->setEnabled(pair.valid());
    m_note->setEnabled(pair.valid());
    if (!pair.valid()) {
        m_position->setText(tr("<i>No pair selected. Import Pref-X pairs or pick a task with pairs.</i>"));
        m_status->clear();
        m_task->clear();
        m_prefix->setText({});
        m_prefix->setTitle({});
        m_chosen->clear();
        m_rejected->clear();
        m_chosenObs->setText({});
        m_rejectedObs->setText({});
        m_similarity->clear();
        return;
    }
    m_position->setText(position >= 0 ? tr("<b>Pair %1 of %2</b> \u00b7 step %3").arg(position + 1).arg(count).arg(pair.stepIndex)
                                      : tr("<b>Pair #%1</b> \u00b7 step %2").arg(pair.id).arg(pair.stepIndex));
    m_status->setText(statusHtml(pair.status));
    m_task->setText(tr("<b>Task:</b> %1").arg(pair.taskQuery.toHtmlEscaped()));
    m_prefix->setTitle(tr("Shared prefix (%n turn(s))", "", int(pair.history.size())));
    m_prefix->setText(pair.history.isEmpty() ? tr("(the pair is for the first step: no history)")
                                             : pair.history.join(QStringLiteral("\n\u2014\u2014\u2014\n")));
    const auto diff = wordDiff(pair.chosenAction, pair.rejectedAction);
    m_chosen->setHtml(diffHtml(diff, 0));
    m_rejected->setHtml(diffHtml(diff, 1));
    QString similarity = tr("Word overlap between the two actions: %1%").arg(qRound(diffSimilarity(diff) * 100));
    if (!pair.verifierReason.isEmpty()) similarity += tr(" \u00b7 Verifier's reason: %1").arg(pair.verifierReason);
    m_similarity->setText(similarity);
    const auto isErr = [](const QString& o) {
        return o.startsWith(QStringLiteral("Error")) || o.contains(QStringLiteral("Error:")) ||
               o.contains(QStringLiteral("Exception"));
    };
    m_chosenObs->setText(pair.chosenObservation, isErr(pair.chosenObservation));
    m_rejectedObs->setText(pair.rejectedObservation, isErr(pair.rejectedObservation));
    const int ri = m_reason->findData(pair.rejectionReason);
    m_reason->setCurrentIndex(ri < 0 ? 0 : ri);
    m_note->setText(pair.note);
}

void PairCurationView::setProgress(const PairProgress& p) {
    m_progress->setText(tr("<span style='color:#1b7a33'>\u2713 %1 approved</span> \u00b7 "
                           "<span style='color:#b3261e'>\u2717 %2 rejected</span> \u00b7 "
                           "<span style='color:#b26a00'>%3 pending</span> (of %4)")
                            .arg(p.approved)
                            .arg(p.rejected)
                            .arg(p.pending)
                            .arg(p.total()));
}

QString PairCurationView::progressText() const {
    QTextDocument d;
    d.setHtml(m_progress->text());
    return d.toPlainText();
}
QString PairCurationView::statusText() const { return m_pair.status; }
QString PairCurationView::selectedReason() const { return m_reason->currentData().toString(); }
QString PairCurationView::note() const { return m_note->text(); }

}  // namespace matrix::ui
