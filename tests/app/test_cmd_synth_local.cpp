// The images stage with local models on the tiny Qwen2-VL fixture (random weights: the content is noise, so the
// checks are structure, determinism and bookkeeping): the captioner and the embedder called directly give the same
// caption / the same vector bits for the same input, unit-norm vectors of the model's width; `matrix synth run
// --stage images --caption-model DIR --embeddings-model DIR` captions the pool images that have none (the same
// captions as the direct calls, kept in the project's request cache), ranks by the local embeddings (the image
// each task gets is the one the direct embeddings rank first, with the same score), a resumed run reads the
// captions back instead of captioning, and the outputs and `matrix synth status` name the embedder.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "tests/support/cli_run.h"
#include "tests/support/scripted_teacher.h"
#ifdef MATRIX_HAVE_TORCH
#include "core/synth/local/local_models.h"
#endif

using namespace matrix;
using matrix::testing::run_matrix;
using json = nlohmann::json;

namespace {

const std::string k_fixture = MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny";
const std::string k_model = k_fixture + "/tiny-qwen2vl";
const std::vector<std::string> k_queries = {"Which shape is drawn in the photo?", "What colour is the object in the picture?"};

std::string answer(const std::string&, const json&) {
    json list = json::array();
    for (const auto& q : k_queries) list.push_back({{"query", q}, {"tools", {"visualizer"}}, {"needs", "image"}});
    return "```json\n" + list.dump() + "\n```";
}

#ifdef MATRIX_HAVE_TORCH
double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * double(b[i]);
        aa += double(a[i]) * double(a[i]);
        bb += double(b[i]) * double(b[i]);
    }
    return ab / std::sqrt(aa * bb);
}
#endif

}  // namespace

class TestCmdSynthLocal : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

    static int64_t count(store::Project& p, const std::string& sql) {
        auto n = p.db().query_int64(sql);
        if (!n.ok()) qFatal("%s: %s", sql.c_str(), n.error().to_string().c_str());
        return *n;
    }
    static std::vector<std::string> column(store::Project& p, const std::string& sql) {
        std::vector<std::string> out;
        auto st = p.db().prepare(sql);
        if (!st.ok()) qFatal("%s", st.error().to_string().c_str());
        while (*st->step()) out.push_back(st->column_text(0));
        return out;
    }

private slots:
    void direct_calls_are_deterministic() {
#ifndef MATRIX_HAVE_TORCH
        QSKIP("this build has no LibTorch engine");
#else
        synth::LocalModelOptions o;
        o.model_dir = k_model;
        auto captioner = synth::load_local_captioner(o);
        QVERIFY2(captioner.ok(), captioner.ok() ? "" : captioner.error().to_string().c_str());
        QCOMPARE((*captioner)->describe(), "local Qwen2-VL " + k_model + " (f32, cpu)");
        auto c1 = (*captioner)->caption(k_fixture + "/img_b.png");
        auto c2 = (*captioner)->caption(k_fixture + "/img_b.png");
        QVERIFY2(c1.ok(), c1.ok() ? "" : c1.error().to_string().c_str());
        QVERIFY(c2.ok());
        QCOMPARE(*c1, *c2);
        QVERIFY(!c1->empty());
        QVERIFY(c1->find('\n') == std::string::npos);
        auto missing = (*captioner)->caption(k_fixture + "/nope.png");
        QVERIFY(!missing.ok());
        QVERIFY2(missing.error().to_string().find("captioning " + k_fixture + "/nope.png") != std::string::npos,
                 missing.error().to_string().c_str());

        auto embedder = synth::load_local_embedder(o);
        QVERIFY2(embedder.ok(), embedder.ok() ? "" : embedder.error().to_string().c_str());
        QCOMPARE((*embedder)->describe(),
                 "local Qwen2-VL " + k_model + " (f32, cpu): mean-pooled final hidden states, L2-normalised");
        auto v = (*embedder)->embed({"a red square on white", "a red square on white", "a blue circle"});
        QVERIFY(v.ok());
        QCOMPARE(int(v->size()), 3);
        QCOMPARE(int((*v)[0].size()), 64);  // the text model's hidden size
        QVERIFY(std::memcmp((*v)[0].data(), (*v)[1].data(), 64 * sizeof(float)) == 0);  // same bits
        double n0 = 0;
        for (float x : (*v)[0]) n0 += double(x) * x;
        QVERIFY(std::abs(std::sqrt(n0) - 1.0) < 1e-6);
        QVERIFY(std::memcmp((*v)[0].data(), (*v)[2].data(), 64 * sizeof(float)) != 0);
        auto again = (*embedder)->embed({"a blue circle"});
        QVERIFY(again.ok());
        QVERIFY(std::memcmp((*again)[0].data(), (*v)[2].data(), 64 * sizeof(float)) == 0);  // alone or in a batch
        auto empty = (*embedder)->embed({""});
        QVERIFY(!empty.ok());
        QCOMPARE(empty.error().message, std::string("text 0 is empty: nothing to embed"));
#endif
    }

    void images_stage_with_local_models() {
#ifndef MATRIX_HAVE_TORCH
        QSKIP("this build has no LibTorch engine");
#else
        testing::ScriptedTeacher teacher(answer);
        const QString db = m_dir.path() + "/p.matrix";
        const QString seeds = m_dir.path() + "/seeds.json";
        std::ofstream(seeds.toStdString()) << R"(["What is in the photo?"])";
        const QStringList common = {"--db", db, "--endpoint", QString::fromStdString(teacher.url()), "--endpoint-model",
                                    "teacher", "--seed", "1"};
        auto q = run_matrix(QStringList{"synth", "run", "--stage", "queries", "--seed-file", seeds} + common);
        QVERIFY2(q.code == 0, q.err.constData());
        // The pool: img_a has a caption, img_b and img_c have none.
        const QString pool = m_dir.path() + "/pool";
        QDir().mkpath(pool);
        for (const char* f : {"img_a.png", "img_b.png", "img_c.png"})
            QVERIFY(QFile::copy(QString::fromStdString(k_fixture) + "/" + f, pool + "/" + f));
        std::ofstream(pool.toStdString() + "/captions.json") << R"({"img_a.png": "a small test picture"})";
        const QString model = QString::fromStdString(k_model);
        const QStringList images = QStringList{"synth", "run", "--stage", "images", "--image-pool", pool, "--caption-model",
                                               model, "--embeddings-model", model} + common;

        // One unit first (a run that stops early), then the rest: the second run reads the captions back.
        auto first = run_matrix(images + QStringList{"--limit", "1"}, QProcessEnvironment::systemEnvironment(), 600000);
        QVERIFY2(first.code == 0, first.err.constData());
        const std::string describe = "local Qwen2-VL " + k_model + " (f32, cpu)";
        QVERIFY2(first.err.contains(("[images: 2 pool image(s) without a caption: 2 captioned by " + describe +
                                     ", 0 from the project's cache, 0 left out]").c_str()), first.err.constData());
        QVERIFY2(first.out.contains("stage images: finished, 1 units, 1 done, 0 rejected, 0 failed"),
                 first.out.constData());
        auto rest = run_matrix(images, QProcessEnvironment::systemEnvironment(), 600000);
        QVERIFY2(rest.code == 0, rest.err.constData());
        QVERIFY2(rest.err.contains(("[images: 2 pool image(s) without a caption: 0 captioned by " + describe +
                                    ", 2 from the project's cache, 0 left out]").c_str()), rest.err.constData());
        QVERIFY2(rest.out.contains("stage images: finished, 1 units, 1 done"), rest.out.constData());

        // The captions the stage kept are the direct captioner's, byte for byte.
        synth::LocalModelOptions o;
        o.model_dir = k_model;
        auto captioner = synth::load_local_captioner(o);
        QVERIFY(captioner.ok());
        auto p = store::Project::open(db.toStdString());
        QVERIFY(p.ok());
        QCOMPARE(count(*p, "SELECT count(*) FROM request_cache WHERE endpoint='local-caption'"), int64_t(2));
        std::map<std::string, std::string> caption_of = {{"img_a.png", "a small test picture"}};
        for (const char* f : {"img_b.png", "img_c.png"}) {
            auto c = (*captioner)->caption(pool.toStdString() + "/" + f);
            QVERIFY(c.ok());
            caption_of[f] = *c;
            qInfo("%s: %s", f, c->c_str());
            auto kept = p->db().prepare("SELECT count(*) FROM request_cache WHERE endpoint='local-caption' AND "
                                        "json_extract(response,'$.caption')=?");
            QVERIFY(kept.ok());
            kept->bind_all(*c);
            QVERIFY(*kept->step());
            QCOMPARE(kept->column_int64(0), int64_t(1));
        }

        // Each task got the image whose caption the direct embeddings rank first, with the same score.
        auto embedder = synth::load_local_embedder(o);
        QVERIFY(embedder.ok());
        std::vector<std::string> names = {"img_a.png", "img_b.png", "img_c.png"}, captions;
        for (const auto& n : names) captions.push_back(caption_of[n]);
        auto cv = (*embedder)->embed(captions);
        QVERIFY(cv.ok());
        const std::string ranking = "local embeddings: " + describe + ": mean-pooled final hidden states, L2-normalised";
        auto st = p->db().prepare("SELECT t.query, json_extract(i.output,'$.pool_image'), json_extract(i.output,'$.score'), "
                                  "json_extract(i.output,'$.ranking'), json_extract(i.output,'$.caption_source'), "
                                  "i.prompt_name FROM synth_items i JOIN tasks t ON t.id=i.task_id WHERE i.stage='images'");
        QVERIFY(st.ok());
        int rows = 0;
        while (*st->step()) {
            ++rows;
            auto qv = (*embedder)->embed({st->column_text(0)});
            QVERIFY(qv.ok());
            size_t best = 0;
            double best_score = -3;
            for (size_t i = 0; i < names.size(); ++i) {
                const double s = cosine((*qv)[0], (*cv)[i]);
                if (s > best_score) best_score = s, best = i;
            }
            QCOMPARE(std::filesystem::path(st->column_text(1)).filename().string(), names[best]);
            QVERIFY(std::abs(st->column_double(2) - best_score) < 1e-9);
            QCOMPARE(st->column_text(3), ranking);
            QCOMPARE(st->column_text(4), names[best] == "img_a.png" ? std::string("pool") : describe);
            QCOMPARE(st->column_text(5), std::string("local-embeddings"));
        }
        QCOMPARE(rows, 2);
        // Local models are not paid: nothing in the usage table for this stage.
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE stage='images'"), int64_t(0));

        auto status = run_matrix({"synth", "status", "--db", db});
        QCOMPARE(status.code, 0);
        QVERIFY2(status.out.contains(("    ranked by " + ranking + ": 2\n").c_str()), status.out.constData());

        // Bad arguments: one clear line each.
        auto wrong_stage = run_matrix(QStringList{"synth", "run", "--stage", "files", "--caption-model", model} + common);
        QCOMPARE(wrong_stage.code, 1);
        QVERIFY2(wrong_stage.err.contains("--caption-model and a local --embeddings-model are for --stage images"),
                 wrong_stage.err.constData());
        auto no_model = run_matrix(QStringList{"synth", "run", "--stage", "images", "--image-pool", pool,
                                               "--embeddings-model", m_dir.path() + "/none"} + common);
        QCOMPARE(no_model.code, 1);
        QVERIFY2(no_model.err.startsWith("matrix: synth run: --embeddings-model: "), no_model.err.constData());
#endif
    }
};

QTEST_GUILESS_MAIN(TestCmdSynthLocal)
#include "test_cmd_synth_local.moc"
