// PairCurationModel: the curation state behind PairCurationView. Holds the ordered ids and statuses of the
// pairs in scope (one Pref-X dataset or all), the current pair, and a QUndoStack. Every change (approve,
// reject, swap, edit, pick a side, reason, note) is one store::PairRepo call = one transaction and one edit
// group in pair_edits (autosave with history); undo/redo go through PairRepo::undo_last/redo_last, so Ctrl+Z
// reverts what the store holds, not just the screen. All store work runs on the ProjectSession worker, in order.
// UI thread only.
#pragma once

#include <QObject>
#include <QVector>
#include <functional>
#include <optional>

#include "core/store/pair_repo.h"
#include "ui/models/view_data.h"

class QUndoStack;

namespace matrix::ui {

class ProjectSession;

class PairCurationModel : public QObject {
    Q_OBJECT
public:
    explicit PairCurationModel(ProjectSession* session, QObject* parent = nullptr);

    // Loads the pairs of one dataset (nullopt: all datasets) and shows the first pending one.
    void setScope(std::optional<qint64> datasetId);
    void reload();
    QUndoStack* undoStack() const { return m_undo; }
    const PairData& current() const { return m_current; }
    int position() const { return m_position; }
    int count() const { return int(m_ids.size()); }
    PairProgress progress() const;
    bool isBusy() const;

public slots:
    void goTo(int position);
    void next();
    void previous();
    void nextPending();
    bool showFirstPairOfTask(qint64 taskId);  // false when no pair in scope belongs to the task
    bool showPairOfStep(qint64 taskId, int step);
    bool showPair(qint64 pairId);  // false when the pair is not in scope  // the task's first pair for that step; false when none

    void approve();
    void reject();  // uses the current rejection reason (set before or after)
    void swap();
    void pick(int side);  // 1: chosen is better -> approve; 2: rejected is better -> swap and approve
    void editChosen(const QString& action);
    void setRejectionReason(const QString& reason);
    void setNote(const QString& note);

signals:
    void currentChanged(const PairData& pair, int position, int count);
    void progressChanged(const PairProgress& progress);
    void storeChanged(qint64 pairId);  // after a write, undo or redo reached the store
    void failed(const QString& message);

private:
    friend class PairEditCommand;
    using Fields = std::vector<std::pair<std::string, std::optional<std::string>>>;
    void push(const QString& text, Fields fields);
    // Runs the apply / undo / redo of a command on the worker, then refreshes the affected pair.
    void applyFields(qint64 pairId, const Fields& fields);
    void undoInStore();
    void redoInStore();
    void loadPair(qint64 pairId, int position);
    void afterWrite(qint64 pairId, const QString& error);

    ProjectSession* m_session;
    QUndoStack* m_undo;
    std::optional<qint64> m_datasetId;
    QVector<qint64> m_ids;
    QVector<QString> m_statuses;
    QVector<qint64> m_taskIds;
    QVector<int> m_steps;  // step_index per pair
    PairData m_current;
    int m_position = -1;
    int m_generation = 0;
    int m_inFlight = 0;
};

}  // namespace matrix::ui
