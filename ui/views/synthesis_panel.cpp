// The Synthesis dock (see synthesis_panel.h).
#include "ui/views/synthesis_panel.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QShortcut>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QVBoxLayout>

#include "core/store/dataset_repo.h"
#include "core/synth/synth_job.h"
#include "ui/models/job_follower.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/models/synth_pipeline_model.h"
#include "ui/settings.h"
#include "ui/views/run_as_form.h"
#include "ui/views/scrolled_layout.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

// The value after `flag` in a job's argv ("" when absent).
QString argValue(const jobs::Job& job, const char* flag) {
    for (size_t i = 0; i + 1 < job.argv.size(); ++i)
        if (job.argv[i] == flag) return qs(job.argv[i + 1]);
    return {};
}
}  // namespace

SynthesisPanel::SynthesisPanel(ProjectSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_jobs(new JobListModel(session, this)),
      m_follower(new JobFollower(session, this)) {
    m_binary = JobFollower::matrixBinary();

    m_pipeline = new SynthPipelineModel(this);
    m_items = new SynthItemsModel(this);
    m_dataset = new QLineEdit(QStringLiteral("synth"));
    m_endpoint = new QLineEdit;
    m_endpoint->setPlaceholderText(QStringLiteral("http://127.0.0.1:8000/v1"));
    m_model = new QLineEdit;
    m_model->setPlaceholderText(tr("teacher model name"));
    m_stage = new QComboBox;
    for (const std::string& s : synth::synth_stages()) m_stage->addItem(qs(s));
    m_seedDataset = new QComboBox;
    m_seedFile = new QLineEdit;
    m_seedFile->setPlaceholderText(tr("or a JSON file of example queries"));
    m_pool = new QLineEdit;
    m_pool->setPlaceholderText(tr("folder of captioned images (images stage)"));
    m_embeddings = new QLineEdit;
    m_embeddings->setPlaceholderText(tr("/v1/embeddings endpoint; empty: lexical fallback"));
    m_captionModel = new QLineEdit(Settings().synthCaptionModel());
    m_captionModel->setObjectName(QStringLiteral("caption_model"));
    m_captionModel->setPlaceholderText(tr("local Qwen2-VL folder: captions pool images without one (images stage)"));
    m_embeddingsModel = new QLineEdit(Settings().synthEmbeddingsModel());
    m_embeddingsModel->setObjectName(QStringLiteral("embeddings_model"));
    m_embeddingsModel->setPlaceholderText(tr("local Qwen2-VL folder (or the endpoint's model name) that embeds"));
    m_embeddingsModel->setToolTip(tr("Without an embeddings endpoint: a local Qwen2-VL folder whose mean-pooled hidden "
                                     "states rank the pool; with one: the model name sent to it"));
    m_runAs = new RunAsForm(QStringLiteral("synthesis"), /*withThread=*/false);
    m_limit = new QSpinBox;
    m_limit->setRange(0, 1000000);
    m_limit->setSpecialValueText(tr("all (queries: 1 round)"));
    m_workers = new QSpinBox;
    m_workers->setRange(1, 64);
    m_budget = new QSpinBox;
    m_budget->setRange(0, 2000000000);
    m_budget->setSingleStep(100000);
    m_budget->setSpecialValueText(tr("no budget"));
    m_start = new QPushButton(tr("&Run Stage"));
    m_start->setToolTip(tr("Run the chosen stage (Ctrl+Return)"));
    m_pause = new QPushButton(tr("&Pause"));
    m_pause->setToolTip(tr("Stop the stage's process where it is (Pause again continues it)"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setToolTip(tr("Stop the stage now: a request in flight is dropped (never recorded) and its unit stays pending; "
                               "finished units are kept, and running the stage again carries on"));
    m_seedTasksLabel = new QLabel;
    m_seedTasksLabel->setObjectName("seed_tasks");
    m_seedTasksLabel->setWordWrap(true);
    m_clearSeeds = new QPushButton(tr("Clear"));
    m_clearSeeds->setToolTip(tr("Forget the tasks chosen in the task browser (use the dataset or file instead)"));
    m_progress = new QProgressBar;
    m_progress->setFormat(QStringLiteral("%v/%m"));
    m_status = new QLabel(tr("Open a project, give the teacher's endpoint, choose a stage."));
    m_status->setWordWrap(true);
    m_reasons = new QLabel;
    m_reasons->setWordWrap(true);
    m_itemsTitle = new QLabel;
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);

    auto* form = new QFormLayout;
    form->addRow(tr("&Dataset"), m_dataset);
    auto* teacher = new QHBoxLayout;
    teacher->addWidget(m_endpoint, 3);
    teacher->addWidget(m_model, 2);
    auto label = [](const QString& text, QWidget* buddy) {
        auto* l = new QLabel(text);
        l->setBuddy(buddy);
        return l;
    };
    form->addRow(label(tr("&Teacher"), m_endpoint), teacher);
    auto* seeds = new QHBoxLayout;
    seeds->addWidget(m_seedDataset, 1);
    seeds->addWidget(m_seedFile, 1);
    form->addRow(label(tr("S&eed examples"), m_seedDataset), seeds);
    auto* chosen = new QHBoxLayout;
    chosen->addWidget(m_seedTasksLabel, 1);
    chosen->addWidget(m_clearSeeds);
    form->addRow(chosen);
    auto* images = new QHBoxLayout;
    images->addWidget(m_pool, 1);
    images->addWidget(m_embeddings, 1);
    form->addRow(label(tr("&Images"), m_pool), images);
    auto folderRow = [this](QLineEdit* edit, const QString& title) {
        auto* row = new QHBoxLayout;
        row->addWidget(edit, 1);
        auto* browse = new QPushButton(tr("Browse..."));
        browse->setToolTip(title);
        row->addWidget(browse);
        connect(browse, &QPushButton::clicked, this, [this, edit, title] {
            const QString dir = QFileDialog::getExistingDirectory(this, title, edit->text());
            if (!dir.isEmpty()) edit->setText(dir);
        });
        return row;
    };
    form->addRow(label(tr("&Caption model"), m_captionModel),
                 folderRow(m_captionModel, tr("Choose the captioning model's folder")));
    form->addRow(label(tr("Em&bedding model"), m_embeddingsModel),
                 folderRow(m_embeddingsModel, tr("Choose the embedding model's folder")));
    auto* limits = new QHBoxLayout;
    limits->addWidget(new QLabel(tr("Limit")));
    limits->addWidget(m_limit);
    limits->addWidget(new QLabel(tr("Workers")));
    limits->addWidget(m_workers);
    limits->addWidget(new QLabel(tr("Budget (tokens)")));
    limits->addWidget(m_budget);
    form->addRow(label(tr("&Limits"), m_limit), limits);
    auto* run = new QHBoxLayout;
    run->addWidget(m_stage);
    run->addWidget(m_start);
    run->addWidget(m_pause);
    run->addWidget(m_cancel);
    run->addWidget(m_progress, 1);
    form->addRow(m_runAs);
    form->addRow(label(tr("&Stage"), m_stage), run);

    m_pipelineView = new QTableView;
    m_pipelineView->setModel(m_pipeline);
    m_pipelineView->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_pipelineView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_pipelineView->verticalHeader()->hide();
    m_pipelineView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_pipelineView->setToolTip(tr("Enter on a count lists its items"));
    m_itemsView = new QTableView;
    m_itemsView->setModel(m_items);
    m_itemsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_itemsView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_itemsView->verticalHeader()->hide();
    m_itemsView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_itemsView->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_itemsView->setWordWrap(false);
    m_itemsView->setToolTip(tr("Enter shows the task with its files and trajectory"));

    auto* layout = scrolledLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_status);
    layout->addWidget(m_pipelineView, 2);
    layout->addWidget(m_reasons);
    layout->addWidget(m_itemsTitle);
    layout->addWidget(m_itemsView, 2);
    layout->addWidget(m_log, 1);

    connect(m_start, &QPushButton::clicked, this, &SynthesisPanel::start);
    connect(m_cancel, &QPushButton::clicked, this, &SynthesisPanel::cancel);
    connect(m_pause, &QPushButton::clicked, this, &SynthesisPanel::pause);
    connect(m_clearSeeds, &QPushButton::clicked, this, [this] { setSeedTasks({}); });
    connect(m_follower, &JobFollower::linesRead, this, &SynthesisPanel::onLines);
    connect(m_follower, &JobFollower::jobUpdated, this, [this](const jobs::Job& j) {
        m_pause->setText(j.state == "paused" ? tr("Continue") : tr("&Pause"));
        if (j.state == "paused") m_status->setText(tr("%1 paused (job %2; Continue carries it on)").arg(m_runningStage).arg(j.id));
        if (j.state == "queued") m_status->setText(tr("Job %1: %2 queued (%3)").arg(j.id).arg(m_runningStage, JobFollower::whereText(j)));
        updateControls();
    });
    connect(m_follower, &JobFollower::ended, this, &SynthesisPanel::onJobEnded);
    connect(m_follower, &JobFollower::controlled, this, [this](const QString& action, const QString& error) {
        if (!error.isEmpty()) m_status->setText(action == "cancel" ? tr("Cancel failed: %1").arg(error) : error);
    });
    // Reattach: the first job list after a project opens names an unfinished synth job started before.
    m_jobs->reattachOnOpen(
        QStringLiteral("synth"), [this] { return m_follower->isActive() || m_starting; },
        [this](const jobs::Job& j) {
            m_log->appendPlainText(tr("Reattached to job %1 (%2), %3.").arg(j.id).arg(JobFollower::whereText(j), qs(j.state)));
            follow(j.id);
        });
    auto* runKey = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this, this, &SynthesisPanel::start);
    runKey->setContext(Qt::WidgetWithChildrenShortcut);
    connect(m_pipelineView, &QTableView::activated, this, [this](const QModelIndex& index) {
        static const char* which[] = {"", "in", "out", "rejected", "pending"};
        const int c = index.column();
        drillDown(m_pipeline->stageAt(index.row()), QString::fromLatin1(c >= 1 && c <= 4 ? which[c] : "out"));
    });
    connect(m_pipelineView->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] { showReasons(); });
    connect(m_itemsView, &QTableView::activated, this, [this](const QModelIndex& index) {
        if (index.row() < m_items->items().size() && m_items->items()[index.row()].taskId > 0)
            emit showTaskRequested(m_items->items()[index.row()].taskId);
    });
    if (m_session) {
        connect(m_session, &ProjectSession::opened, this, [this] {
            m_follower->stop();
            m_follower->follow(0);
            updateControls();
            refresh();
        });
    }
    setSeedTasks({});
    updateControls();
}

// The job is a process of its own: the panel going away leaves it running (the close dialog says so).
SynthesisPanel::~SynthesisPanel() = default;

void SynthesisPanel::setDataset(const QString& name) { m_dataset->setText(name); }
void SynthesisPanel::setEndpoint(const QString& url, const QString& model) {
    m_endpoint->setText(url);
    m_model->setText(model);
}
void SynthesisPanel::setStage(const QString& stage) { m_stage->setCurrentText(stage); }
void SynthesisPanel::setSeedDataset(const QString& name) {
    if (m_seedDataset->findText(name) < 0) m_seedDataset->addItem(name);
    m_seedDataset->setCurrentText(name);
}
void SynthesisPanel::setLimit(int n) { m_limit->setValue(n); }
void SynthesisPanel::setImagePool(const QString& dir) { m_pool->setText(dir); }
void SynthesisPanel::setLocalModels(const QString& captionDir, const QString& embeddingsModel) {
    m_captionModel->setText(captionDir);
    m_embeddingsModel->setText(embeddingsModel);
}
void SynthesisPanel::setSeedTasks(const QVector<qint64>& ids) {
    m_seedTasks = ids;
    QStringList shown;
    for (int i = 0; i < ids.size() && i < 12; ++i) shown << QString::number(ids[i]);
    if (ids.size() > 12) shown << QStringLiteral("...");
    m_seedTasksLabel->setText(ids.isEmpty() ? tr("No tasks chosen: select tasks in the task browser and press "
                                                 "Ctrl+Shift+U to use them as seeds")
                                            : tr("%1 chosen in the task browser: %2")
                                                  .arg(ids.size() == 1 ? tr("1 task") : tr("%1 tasks").arg(ids.size()),
                                                       shown.join(QStringLiteral(", "))));
    m_clearSeeds->setEnabled(!ids.isEmpty());
    m_seedDataset->setEnabled(ids.isEmpty());
    m_seedFile->setEnabled(ids.isEmpty());
}
bool SynthesisPanel::isRunning() const { return m_starting || m_follower->isActive(); }
int SynthesisPanel::unfinishedJobs() const { return m_jobs->unfinishedCount(QStringLiteral("synth")); }
qint64 SynthesisPanel::followedJob() const { return m_follower->jobId(); }
QString SynthesisPanel::progressText() const { return m_status->text(); }
QString SynthesisPanel::reasonsText() const { return m_reasons->text(); }

void SynthesisPanel::refresh() {
    if (!m_session || !m_session->isOpen()) return;
    const std::string dataset = m_dataset->text().trimmed().toStdString();
    struct Read {
        std::optional<synth::SynthStatus> status;
        QStringList datasets;
        QString error;
    };
    m_session->post(
        this,
        [dataset](store::Project& p) {
            Read r;
            auto list = store::DatasetRepo(p.db()).list();
            if (list.ok())
                for (const auto& d : *list)
                    if (d.name != dataset) r.datasets << qs(d.name);
            auto st = synth::synth_status(p.db(), dataset);
            if (st.ok()) r.status = std::move(st).value();
            else r.error = qs(st.error().to_string());
            return r;
        },
        [this](Read r) {
            const QString seed = m_seedDataset->currentText();
            m_seedDataset->clear();
            m_seedDataset->addItem(QString());
            m_seedDataset->addItems(r.datasets);
            if (!seed.isEmpty()) setSeedDataset(seed);
            if (r.status) m_pipeline->setStatus(*r.status);
            else {
                synth::SynthStatus empty;
                for (const std::string& name : synth::synth_stages()) {
                    synth::StageStatus s;
                    s.stage = name;
                    empty.stages.push_back(s);
                }
                m_pipeline->setStatus(empty);
            }
            showReasons();
            emit refreshed();
        });
}

void SynthesisPanel::showReasons() {
    const int row = m_pipelineView->currentIndex().isValid() ? m_pipelineView->currentIndex().row() : -1;
    const auto& st = m_pipeline->status();
    if (row < 0) {
        m_reasons->setText(tr("Paid tokens %1, cost %2").arg(st.paid_tokens).arg(st.cost, 0, 'f', 4));
        return;
    }
    const QString reasons = m_pipeline->reasonsText(row);
    m_reasons->setText(tr("%1 rejected: %2").arg(m_pipeline->stageAt(row), reasons.isEmpty() ? tr("none") : reasons));
}

QStringList SynthesisPanel::startArguments() const {
    QStringList a = {QStringLiteral("synth"), QStringLiteral("run"), QStringLiteral("--db"),
                     m_session ? m_session->path() : QString(), QStringLiteral("--stage"), m_stage->currentText(),
                     QStringLiteral("--dataset"), m_dataset->text().trimmed(), QStringLiteral("--endpoint"),
                     m_endpoint->text().trimmed(), QStringLiteral("--endpoint-model"), m_model->text().trimmed(),
                     QStringLiteral("--workers"), QString::number(m_workers->value())};
    if (m_limit->value() > 0) a << QStringLiteral("--limit") << QString::number(m_limit->value());
    if (m_budget->value() > 0) a << QStringLiteral("--budget-tokens") << QString::number(m_budget->value());
    if (!m_seedTasks.isEmpty()) {
        QStringList ids;
        for (qint64 id : m_seedTasks) ids << QString::number(id);
        a << QStringLiteral("--seed-tasks") << ids.join(QLatin1Char(','));
    } else {
        if (!m_seedDataset->currentText().isEmpty()) a << QStringLiteral("--seed-dataset") << m_seedDataset->currentText();
        if (!m_seedFile->text().trimmed().isEmpty()) a << QStringLiteral("--seed-file") << m_seedFile->text().trimmed();
    }
    if (!m_pool->text().trimmed().isEmpty()) a << QStringLiteral("--image-pool") << m_pool->text().trimmed();
    if (!m_embeddings->text().trimmed().isEmpty())
        a << QStringLiteral("--embeddings-endpoint") << m_embeddings->text().trimmed();
    // The local models serve the images stage only (`matrix synth run` refuses them for the others).
    if (m_stage->currentText() == QLatin1String("images")) {
        if (!m_captionModel->text().trimmed().isEmpty())
            a << QStringLiteral("--caption-model") << m_captionModel->text().trimmed();
        if (!m_embeddingsModel->text().trimmed().isEmpty())
            a << QStringLiteral("--embeddings-model") << m_embeddingsModel->text().trimmed();
    }
    return a;
}

void SynthesisPanel::start() {
    if (isRunning() || !m_session || !m_session->isOpen()) return;
    if (m_endpoint->text().trimmed().isEmpty() || m_model->text().trimmed().isEmpty()) {
        m_status->setText(tr("Give the teacher's endpoint URL and model name first."));
        return;
    }
    if (m_binary.isEmpty()) {
        m_status->setText(tr("The matrix command-line program was not found beside the workbench."));
        return;
    }
    const QStringList args = startArguments();
    const jobs::JobRequest req = m_runAs->request(QStringLiteral("synth"), args, m_session->path(), m_binary);
    Settings settings;
    settings.setSynthCaptionModel(m_captionModel->text().trimmed());
    settings.setSynthEmbeddingsModel(m_embeddingsModel->text().trimmed());
    m_runningStage = m_stage->currentText();
    m_log->appendPlainText(QStringLiteral("$ matrix %1").arg(args.join(QLatin1Char(' '))));
    m_progress->setRange(0, 0);
    m_status->setText(req.slurm ? tr("Submitting %1 to Slurm...").arg(m_runningStage)
                                : tr("Starting %1 as a job...").arg(m_runningStage));
    m_starting = true;
    updateControls();
    m_jobs->submit(req, [this](const jobs::Job* job, const QString& error) {
        m_starting = false;
        if (!job) {
            m_progress->setRange(0, 1);
            m_status->setText(tr("%1 not started: %2").arg(m_runningStage, error));
            updateControls();
            return;
        }
        follow(job->id);
    });
}

void SynthesisPanel::follow(qint64 jobId) {
    m_summary.clear();
    const jobs::Job* j = m_jobs->jobById(jobId);
    if (j) m_runningStage = argValue(*j, "--stage");
    m_progress->setRange(0, 0);
    m_status->setText(tr("Job %1: %2 running...").arg(jobId).arg(m_runningStage));
    m_follower->follow(jobId);
    updateControls();
}

void SynthesisPanel::cancel() {
    if (m_follower->cancel()) m_status->setText(tr("Cancelling %1 (units in flight stay pending)...").arg(m_runningStage));
}

void SynthesisPanel::pause() { m_follower->togglePause(); }

void SynthesisPanel::onLines(const QStringList& lines) {
    for (const QString& raw : lines) {
        const QString line = raw.trimmed();
        if (line.isEmpty()) continue;
        if (const auto p = JobFollower::parseProgress(line)) {
            m_progress->setRange(0, std::max(1, p->total));
            m_progress->setValue(p->done);
            QString text = tr("%1: %2 of %3 units").arg(m_runningStage).arg(p->done).arg(p->total);
            if (p->eta_s >= 0) text += tr(", about %1 s left").arg(qint64(p->eta_s + 0.5));
            m_status->setText(text);
            continue;
        }
        if (line.startsWith(QStringLiteral("stage ")) && line.contains(QStringLiteral(" units, "))) m_summary = line;
        m_log->appendPlainText(line);
    }
}

void SynthesisPanel::onJobEnded(const jobs::Job& job) {
    m_jobs->refresh();  // the job list (unfinishedJobs, the close dialog) catches up now, not at its next poll
    m_progress->setRange(0, 1);
    m_progress->setValue(1);
    const int code = job.exit_code.value_or(-1);
    QString text;
    if (job.state == "finished") text = tr("%1 finished").arg(m_runningStage);
    else if (job.state == "cancelled") text = tr("%1 cancelled; run it again to carry on").arg(m_runningStage);
    else if (code == 3) text = tr("%1 paused: the token budget is reached").arg(m_runningStage);
    else text = tr("%1 failed: %2").arg(m_runningStage, JobFollower::failureText(job));
    // The job's own summary: "stage S: finished, 6 units, 5 done, 1 rejected, 0 failed, 7200 paid tokens".
    const int comma = m_summary.indexOf(QStringLiteral(", "));
    if (job.state != "failed" && comma > 0) text += QStringLiteral(": ") + m_summary.mid(comma + 2);
    m_summary.clear();
    m_status->setText(text);
    m_pause->setText(tr("&Pause"));
    updateControls();
    refresh();
    emit stageFinished(m_runningStage, job.state == "cancelled" ? 130 : code);
}

void SynthesisPanel::drillDown(const QString& stage, const QString& which) {
    if (!m_session || !m_session->isOpen() || stage.isEmpty()) return;
    const std::string dataset = m_dataset->text().trimmed().toStdString(), st = stage.toStdString(),
                      w = which.toStdString();
    m_session->post(
        this,
        [dataset, st, w](store::Project& p) {
            QVector<SynthItemRow> rows;
            auto items = synth::synth_stage_items(p.db(), dataset, st, w);
            if (!items.ok()) return rows;
            for (const auto& it : *items) {
                SynthItemRow r;
                r.taskId = it.task_id;
                r.query = qs(it.query);
                r.status = qs(it.status);
                r.reason = qs(it.reason);
                rows.push_back(r);
            }
            return rows;
        },
        [this, stage, which](QVector<SynthItemRow> rows) {
            m_items->setItems(tr("%1, %2: %3 items").arg(stage, which).arg(rows.size()), rows);
            m_itemsTitle->setText(m_items->title());
            if (!rows.isEmpty()) m_itemsView->setCurrentIndex(m_items->index(0, 0));
            // The same items in the task browser: the tasks among them (a rejected query never became a task).
            QVector<qint64> ids;
            int taskless = 0;
            for (const SynthItemRow& r : rows) {
                if (r.taskId <= 0) ++taskless;
                else if (!ids.contains(r.taskId)) ids << r.taskId;
            }
            QString label = tr("synthesis %1 \u00b7 %2 \u00b7 %3").arg(m_dataset->text().trimmed(), stage, which);
            if (taskless == 1) label += tr(" (1 rejected query never became a task)");
            else if (taskless > 1) label += tr(" (%1 rejected queries never became tasks)").arg(taskless);
            emit itemsLoaded();
            emit filterTasksRequested(ids, label);
        });
}

void SynthesisPanel::updateControls() {
    const bool running = isRunning();
    m_start->setEnabled(!running);
    m_cancel->setEnabled(running && !m_starting);
    m_pause->setEnabled(running && !m_starting);
    m_stage->setEnabled(!running);
    m_runAs->setEnabled(!running);
}

}  // namespace matrix::ui
