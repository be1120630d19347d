// The Synthesis dock's local caption and embedding models: the images stage run from the dock as a job on the tiny
// Qwen2-VL fixture (the same set-up as tests/app/test_cmd_synth_local.cpp: two image queries from a scripted teacher,
// a pool of three images of which one has a caption). The launched job's command line in the jobs table carries
// `--caption-model DIR --embeddings-model DIR` exactly; the job finishes with the exact counts in the dock; the images
// without a caption were captioned by the local model (its line in the dock's log); the two fields are kept in the
// settings (an isolated settings folder) and a new dock shows them again.
#include <QDir>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/jobs/job_repo.h"
#include "core/store/project.h"
#include "tests/support/cli_run.h"
#include "tests/support/scripted_teacher.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/models/synth_pipeline_model.h"
#include "ui/views/synthesis_panel.h"

using namespace matrix;
using namespace matrix::ui;
using json = nlohmann::json;

namespace {
const QString k_fixture = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny");
const QString k_model = k_fixture + "/tiny-qwen2vl";

std::string image_queries(const std::string&, const json&) {
    json list = json::array();
    for (const char* q : {"Which shape is drawn in the photo?", "What colour is the object in the picture?"})
        list.push_back({{"query", q}, {"tools", {"visualizer"}}, {"needs", "image"}});
    return "```json\n" + list.dump() + "\n```";
}
}  // namespace

class TestSynthesisLocalModels : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath("settings"));
        QCoreApplication::setOrganizationName("matrix-test");
        QCoreApplication::setApplicationName("test_synthesis_local_models");
        qputenv("OPENBLAS_NUM_THREADS", "1");
        qputenv("OMP_NUM_THREADS", "1");
    }

    void images_stage_job_carries_the_local_models() {
#ifndef MATRIX_HAVE_TORCH
        QSKIP("this build has no LibTorch engine: `matrix synth run` cannot run local models");
#else
        testing::ScriptedTeacher teacher(image_queries);
        const QString db = m_dir.filePath("p.matrix");
        const QString seeds = m_dir.filePath("seeds.json");
        std::ofstream(seeds.toStdString()) << R"(["What is in the photo?"])";
        auto q = testing::run_matrix({"synth", "run", "--db", db, "--stage", "queries", "--seed-file", seeds, "--endpoint",
                                      QString::fromStdString(teacher.url()), "--endpoint-model", "teacher", "--seed", "1"});
        QVERIFY2(q.code == 0, q.err.constData());
        const QString pool = m_dir.filePath("pool");
        QDir().mkpath(pool);
        for (const char* f : {"img_a.png", "img_b.png", "img_c.png"})
            QVERIFY(QFile::copy(k_fixture + "/" + f, pool + "/" + f));
        std::ofstream(pool.toStdString() + "/captions.json") << R"({"img_a.png": "a small test picture"})";

        {
            ProjectSession session;
            QSignalSpy opened(&session, &ProjectSession::opened);
            session.open(db);
            QVERIFY(opened.wait(10000));
            SynthesisPanel panel(&session);
            panel.setMatrixBinary(testing::matrix_binary());
            panel.setEndpoint(QString::fromStdString(teacher.url()), "teacher");
            panel.setStage("images");
            panel.setImagePool(pool);
            panel.setLocalModels(k_model, k_model);
            QSignalSpy finished(&panel, &SynthesisPanel::stageFinished);
            panel.start();
            QVERIFY(finished.wait(600000));
            QCOMPARE(finished.first().at(0).toString(), QString("images"));
            QCOMPARE(finished.first().at(1).toInt(), 0);
            // The paid tokens are the dataset's so far: the queries round the teacher billed; local models are free.
            int64_t billed = 0;
            for (const auto& s : teacher.served()) billed += s.usage.prompt_tokens + s.usage.completion_tokens;
            QCOMPARE(int(teacher.served().size()), 1);
            QVERIFY(billed > 0);
            QCOMPARE(panel.progressText(),
                     QString("images finished: 2 units, 2 done, 0 rejected, 0 failed, %1 paid tokens").arg(billed));
            const QString log = panel.findChild<QPlainTextEdit*>()->toPlainText();
            const QString describe = "local Qwen2-VL " + k_model + " (f32, cpu)";
            QVERIFY2(log.contains("[images: 2 pool image(s) without a caption: 2 captioned by " + describe +
                                  ", 0 from the project's cache, 0 left out]"),
                     qPrintable(log));

            // The job's command line, as the jobs table keeps it.
            auto p = store::Project::open(db.toStdString());
            QVERIFY(p.ok());
            auto job = jobs::JobRepo(p->db()).get(1);
            QVERIFY(job.ok() && *job);
            const jobs::Job& j = **job;
            QCOMPARE(j.kind, std::string("synth"));
            QCOMPARE(j.backend, std::string("local"));
            QCOMPARE(j.state, std::string("finished"));
            QStringList argv;
            for (const std::string& a : j.argv) argv << QString::fromStdString(a);
            QCOMPARE(argv.mid(0, 6), QStringList({"synth", "run", "--db", db, "--stage", "images"}));
            const int at = int(argv.indexOf("--image-pool"));
            QVERIFY(at > 0);
            QCOMPARE(argv.mid(at), QStringList({"--image-pool", pool, "--caption-model", k_model, "--embeddings-model",
                                                k_model}));
            // Ranked by the local embedder: every task's image row names it.
            auto ranked = p->db().query_int64("SELECT count(*) FROM synth_items WHERE stage='images' AND "
                                              "prompt_name='local-embeddings'");
            QVERIFY(ranked.ok());
            QCOMPARE(*ranked, int64_t(2));
        }

        // Kept in the settings: a new dock shows the same two folders.
        ProjectSession session;
        SynthesisPanel again(&session);
        QCOMPARE(again.findChild<QLineEdit*>("caption_model")->text(), k_model);
        QCOMPARE(again.findChild<QLineEdit*>("embeddings_model")->text(), k_model);
#endif
    }
};

QTEST_MAIN(TestSynthesisLocalModels)
#include "test_synthesis_local_models.moc"
