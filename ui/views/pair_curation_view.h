// PairCurationView: one Pref-X pair for review. The shared prefix collapsed on top; chosen (1) and rejected (2)
// actions side by side with a word-level diff and each one's observation below; status, rejection reason (from
// a fixed list) and a note; a progress counter (approved / rejected / pending) for the dataset. It only shows
// PairData and emits requests: PairCurationController applies them to the store (undoable). UI thread only.
#pragma once

#include <QWidget>

#include "ui/models/view_data.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTextBrowser;

namespace matrix::ui {

class CollapsibleText;

class PairCurationView : public QWidget {
    Q_OBJECT
public:
    explicit PairCurationView(QWidget* parent = nullptr);

    static const QStringList& rejectionReasons();

    void setPair(const PairData& pair, int position = -1, int count = -1);
    void setProgress(const PairProgress& progress);
    const PairData& pair() const { return m_pair; }
    QString progressText() const;
    QString statusText() const;
    QString selectedReason() const;
    QString note() const;
    QTextBrowser* chosenView() const { return m_chosen; }
    QTextBrowser* rejectedView() const { return m_rejected; }
    QComboBox* reasonBox() const { return m_reason; }
    QLineEdit* noteEdit() const { return m_note; }

signals:
    void approveRequested();
    void rejectRequested();
    void swapRequested();
    void editRequested();
    void pickRequested(int side);  // 1 = chosen is better, 2 = rejected is better
    void nextPendingRequested();
    void reasonChosen(const QString& reason);
    void noteEdited(const QString& note);

private:
    PairData m_pair;
    QLabel* m_progress;
    QLabel* m_position;
    QLabel* m_status;
    QLabel* m_task;
    CollapsibleText* m_prefix;
    QLabel* m_similarity;
    QTextBrowser* m_chosen;
    QTextBrowser* m_rejected;
    CollapsibleText* m_chosenObs;
    CollapsibleText* m_rejectedObs;
    QComboBox* m_reason;
    QLineEdit* m_note;
    QList<QPushButton*> m_buttons;
};

}  // namespace matrix::ui
