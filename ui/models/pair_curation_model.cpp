// PairCurationModel and its undo command (see pair_curation_model.h).
#include "ui/models/pair_curation_model.h"

#include <QUndoCommand>
#include <QUndoStack>
#include "core/conversation/prefx_history.h"
#include "core/conversation/user_prompt.h"
#include "core/store/sampled_pair_repo.h"
#include "core/store/task_repo.h"
#include "ui/models/project_session.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
QString qs(const std::optional<std::string>& s) { return s ? QString::fromStdString(*s) : QString(); }
std::optional<std::string> opt(const QString& s) {
    return s.isEmpty() ? std::nullopt : std::optional<std::string>(s.toStdString());
}

struct IdList {
    QVector<qint64> ids, taskIds;
    QVector<int> steps;
    QVector<QString> statuses;
    QString error;
};

PairData toPairData(store::Project& p, const store::Pair& pair) {
    PairData d;
    d.id = pair.id;
    d.datasetId = pair.dataset_id;
    d.taskId = pair.task_id.value_or(0);
    d.stepIndex = pair.step_index;
    d.chosenAction = qs(pair.chosen_action);
    d.chosenObservation = qs(pair.chosen_observation);
    d.rejectedAction = qs(pair.rejected_action);
    d.rejectedObservation = qs(pair.rejected_observation);
    d.status = qs(pair.status);
    d.rejectionReason = qs(pair.rejection_reason);
    d.note = qs(pair.note);
    store::PairRepo repo(p.db());
    if (auto prefix = repo.prefix(pair.prefix_id); prefix && prefix->has_value()) {
        for (const conversation::PrefxTurn& turn : conversation::prefx_turns(**prefix)) {
            if (d.taskQuery.isEmpty() && turn.from == "human") {
                d.taskQuery = qs(std::string(conversation::task_query_of_turn(turn.value))).trimmed();
                continue;  // the task is shown separately, not as history
            }
            d.history << qs(turn.value);
        }
    }
    if (pair.origin == "sampled")
        if (auto link = store::SampledPairRepo(p.db()).get(pair.id); link.ok() && *link)
            d.verifierReason = qs((*link)->verifier_reason.value_or(""));
    if (d.taskQuery.isEmpty() && pair.task_id)
        if (auto t = store::TaskRepo(p.db()).get(*pair.task_id); t && t->has_value()) d.taskQuery = qs((*t)->query);
    return d;
}
}  // namespace

// One user action on one pair. The first redo() writes the fields; later redo()/undo() replay through the
// store's own history (redo_last / undo_last), which restores exactly what the store recorded.
class PairEditCommand : public QUndoCommand {
public:
    PairEditCommand(PairCurationModel* model, qint64 pairId, const QString& text, PairCurationModel::Fields fields)
        : QUndoCommand(text), m_model(model), m_pairId(pairId), m_fields(std::move(fields)) {}
    void redo() override {
        if (m_first) {
            m_first = false;
            m_model->applyFields(m_pairId, m_fields);
        } else {
            m_model->redoInStore();
        }
    }
    void undo() override { m_model->undoInStore(); }

private:
    PairCurationModel* m_model;
    qint64 m_pairId;
    PairCurationModel::Fields m_fields;
    bool m_first = true;
};

PairCurationModel::PairCurationModel(ProjectSession* session, QObject* parent)
    : QObject(parent), m_session(session), m_undo(new QUndoStack(this)) {}

bool PairCurationModel::isBusy() const { return m_inFlight > 0; }

void PairCurationModel::setScope(std::optional<qint64> datasetId) {
    m_datasetId = datasetId;
    m_undo->clear();
    reload();
}

void PairCurationModel::reload() {
    const int gen = ++m_generation;
    ++m_inFlight;
    m_session->post(
        this,
        [ds = m_datasetId](store::Project& p) {
            IdList r;
            auto rows = store::PairRepo(p.db()).queue(ds ? std::optional<int64_t>(*ds) : std::nullopt);
            if (!rows) {
                r.error = qs(rows.error().to_string());
                return r;
            }
            for (const store::PairRepo::QueueRow& row : *rows) {
                r.ids << row.id;
                r.statuses << qs(row.status);
                r.taskIds << row.task_id;
                r.steps << row.step_index;
            }
            return r;
        },
        [this, gen](IdList r) {
            --m_inFlight;
            if (gen != m_generation) return;
            if (!r.error.isEmpty()) emit failed(r.error);
            const qint64 keep = m_current.id;
            m_ids = r.ids;
            m_statuses = r.statuses;
            m_taskIds = r.taskIds;
            m_steps = r.steps;
            emit progressChanged(progress());
            int pos = int(m_ids.indexOf(keep));
            if (pos < 0) pos = int(m_statuses.indexOf(QStringLiteral("pending")));
            if (pos < 0 && !m_ids.isEmpty()) pos = 0;
            goTo(pos);
        });
}

PairProgress PairCurationModel::progress() const {
    PairProgress p;
    for (const QString& s : m_statuses) {
        if (s == QLatin1String("approved")) ++p.approved;
        else if (s == QLatin1String("rejected")) ++p.rejected;
        else ++p.pending;
    }
    return p;
}

void PairCurationModel::goTo(int position) {
    if (position < 0 || position >= m_ids.size()) {
        m_position = -1;
        m_current = {};
        emit currentChanged(m_current, -1, count());
        return;
    }
    loadPair(m_ids[position], position);
}

void PairCurationModel::next() { goTo(std::min(m_position + 1, count() - 1)); }
void PairCurationModel::previous() { goTo(std::max(m_position - 1, 0)); }

void PairCurationModel::nextPending() {
    const int n = count();
    for (int k = 1; k <= n; ++k) {
        const int i = (m_position + k) % n;
        if (m_statuses[i] == QLatin1String("pending")) {
            goTo(i);
            return;
        }
    }
}

bool PairCurationModel::showFirstPairOfTask(qint64 taskId) {
    const int i = int(m_taskIds.indexOf(taskId));
    if (i < 0) return false;
    if (i != m_position) goTo(i);
    return true;
}

bool PairCurationModel::showPair(qint64 pairId) {
    const int i = int(m_ids.indexOf(pairId));
    if (i < 0) return false;
    if (i != m_position) goTo(i);
    return true;
}

bool PairCurationModel::showPairOfStep(qint64 taskId, int step) {
    // Already on a pair of that step (maybe not its first): stay.
    if (m_position >= 0 && m_position < m_taskIds.size() && m_taskIds[m_position] == taskId &&
        m_position < m_steps.size() && m_steps[m_position] == step)
        return true;
    for (int i = 0; i < m_taskIds.size(); ++i) {
        if (m_taskIds[i] != taskId || i >= m_steps.size() || m_steps[i] != step) continue;
        if (i != m_position) goTo(i);
        return true;
    }
    return false;
}

void PairCurationModel::loadPair(qint64 pairId, int position) {
    const int gen = ++m_generation;
    ++m_inFlight;
    m_session->post(
        this,
        [pairId](store::Project& p) {
            auto pair = store::PairRepo(p.db()).get(pairId);
            return pair && pair->has_value() ? toPairData(p, **pair) : PairData{};
        },
        [this, gen, position](PairData d) {
            --m_inFlight;
            if (gen != m_generation) return;
            m_current = d;
            m_position = d.valid() ? position : -1;
            if (d.valid() && position >= 0 && position < m_statuses.size()) {
                m_statuses[position] = d.status;
                emit progressChanged(progress());
            }
            emit currentChanged(m_current, m_position, count());
        });
}

void PairCurationModel::push(const QString& text, Fields fields) {
    if (!m_current.valid()) return;
    // Drop fields that would not change anything: the store writes no edit for them, and an empty group must
    // not reach the undo stack (undo_last would then revert an older change).
    auto value = [this](const std::string& f) -> QString {
        if (f == "status") return m_current.status;
        if (f == "rejection_reason") return m_current.rejectionReason;
        if (f == "note") return m_current.note;
        if (f == "chosen_action") return m_current.chosenAction;
        if (f == "chosen_observation") return m_current.chosenObservation;
        if (f == "rejected_action") return m_current.rejectedAction;
        if (f == "rejected_observation") return m_current.rejectedObservation;
        return {};
    };
    Fields changed;
    for (auto& [f, v] : fields)
        if (value(f) != (v ? qs(*v) : QString())) changed.emplace_back(f, v);
    if (changed.empty()) return;
    // Show the change at once (the store's reply confirms it), and compare the next key press against it.
    for (auto& [f, v] : changed) {
        const QString nv = v ? qs(*v) : QString();
        if (f == "status") m_current.status = nv;
        else if (f == "rejection_reason") m_current.rejectionReason = nv;
        else if (f == "note") m_current.note = nv;
        else if (f == "chosen_action") m_current.chosenAction = nv;
        else if (f == "chosen_observation") m_current.chosenObservation = nv;
        else if (f == "rejected_action") m_current.rejectedAction = nv;
        else if (f == "rejected_observation") m_current.rejectedObservation = nv;
    }
    if (m_position >= 0) m_statuses[m_position] = m_current.status;
    emit currentChanged(m_current, m_position, count());
    emit progressChanged(progress());
    m_undo->push(new PairEditCommand(this, m_current.id, text, std::move(changed)));
}

void PairCurationModel::applyFields(qint64 pairId, const Fields& fields) {
    ++m_inFlight;
    m_session->post(
        this,
        [pairId, fields](store::Project& p) {
            auto s = store::PairRepo(p.db()).update(pairId, fields);
            return s ? QString() : qs(s.error().to_string());
        },
        [this, pairId](QString error) { afterWrite(pairId, error); });
}

void PairCurationModel::undoInStore() {
    ++m_inFlight;
    m_session->post(
        this,
        [](store::Project& p) {
            auto r = store::PairRepo(p.db()).undo_last();
            return std::make_pair(r && r->has_value() ? **r : qint64(0), r ? QString() : qs(r.error().to_string()));
        },
        [this](std::pair<qint64, QString> r) { afterWrite(r.first, r.second); });
}

void PairCurationModel::redoInStore() {
    ++m_inFlight;
    m_session->post(
        this,
        [](store::Project& p) {
            auto r = store::PairRepo(p.db()).redo_last();
            return std::make_pair(r && r->has_value() ? **r : qint64(0), r ? QString() : qs(r.error().to_string()));
        },
        [this](std::pair<qint64, QString> r) { afterWrite(r.first, r.second); });
}

void PairCurationModel::afterWrite(qint64 pairId, const QString& error) {
    --m_inFlight;
    if (!error.isEmpty()) emit failed(error);
    if (pairId <= 0) return;
    emit storeChanged(pairId);
    const int pos = int(m_ids.indexOf(pairId));
    if (pos >= 0) loadPair(pairId, pos);  // show the pair that changed (after undo it may be another one)
    if (m_session) emit m_session->dataChanged(QStringLiteral("pairs"));
}

void PairCurationModel::approve() { push(tr("Approve pair"), {{"status", std::string("approved")}}); }

void PairCurationModel::reject() {
    Fields f = {{"status", std::string("rejected")}};
    push(tr("Reject pair"), f);
}

void PairCurationModel::swap() {
    push(tr("Swap chosen and rejected"),
         {{"chosen_action", opt(m_current.rejectedAction)},
          {"rejected_action", opt(m_current.chosenAction)},
          {"chosen_observation", opt(m_current.rejectedObservation)},
          {"rejected_observation", opt(m_current.chosenObservation)}});
}

void PairCurationModel::pick(int side) {
    if (side == 1) {
        push(tr("Chosen is better: approve"), {{"status", std::string("approved")}});
    } else if (side == 2) {
        push(tr("Rejected is better: swap and approve"),
             {{"chosen_action", opt(m_current.rejectedAction)},
              {"rejected_action", opt(m_current.chosenAction)},
              {"chosen_observation", opt(m_current.rejectedObservation)},
              {"rejected_observation", opt(m_current.chosenObservation)},
              {"status", std::string("approved")}});
    }
}

void PairCurationModel::editChosen(const QString& action) {
    push(tr("Edit chosen action"), {{"chosen_action", action.toStdString()}});
}

void PairCurationModel::setRejectionReason(const QString& reason) {
    push(tr("Set rejection reason"), {{"rejection_reason", opt(reason)}});
}

void PairCurationModel::setNote(const QString& note) { push(tr("Edit note"), {{"note", opt(note)}}); }

}  // namespace matrix::ui
