// Data-parallel training (core/training/distributed.h) on CPU with Gloo, 2 processes of the built `matrix` binary on
// the tiny Qwen2-VL fixture: the adapter after N steps equals (within 1e-5) a single process with the same global
// batch (grad_accum 2), for SFT and for DPO (with the reference log-probs precomputed sharded across the ranks);
// a different global batch gives a different adapter (the check can fail). Killing one rank of a torchrun-style
// launch makes the other exit non-zero with an error naming the lost rank, the run is marked failed, and resuming
// it on one process (grad_accum doubled to keep the global batch) finishes with the uninterrupted run's adapter.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/store/run_rank_repo.h"
#include "core/store/run_repo.h"
#include "core/training/checkpoint.h"
#include "core/training/local_launcher.h"
#include "tests/core/training/demo_project.h"
#include "tests/support/cli_run.h"

using namespace matrix;
using namespace matrix::testing::demo_project;
namespace fs = std::filesystem;

namespace {

// LoRA r=8 on q/k/v/o, dropout off (each rank would draw its own masks), 10 epochs of the 3 demo samples.
QStringList common_sets(int grad_accum) {
    QStringList a;
    for (const char* kv : {"lora_r=8", "lora_alpha=16", "lora_dropout=0", "lr=0.01", "weight_decay=0", "epochs=10",
                           "max_length=512", "seed=3", "batch_size=1", "save_every=2", "keep_checkpoints=50"})
        a << "--set" << kv;
    a << "--set" << QString("grad_accum=%1").arg(grad_accum);
    return a;
}

QStringList train_args(const std::string& stage, const std::string& db, const std::string& out, int grad_accum) {
    QStringList a{"train", QString::fromStdString(stage), "--db", QString::fromStdString(db), "--dataset",
                  stage == "sft" ? "demo" : "prefs", "--model", QString::fromStdString(kModel), "--out",
                  QString::fromStdString(out)};
    return a + common_sets(grad_accum);
}

// Largest |a - b| over the adapters' tensors (same names required), and the largest |b| of the lora_B matrices.
struct AdapterDiff {
    double max_diff = -1, max_lora_b = 0;
    size_t n_tensors = 0;
    std::string error;
};
AdapterDiff compare_adapters(const std::string& dir_a, const std::string& dir_b) {
    AdapterDiff d;
    auto a = train::load_tensors(dir_a + "/adapter_model.safetensors");
    auto b = train::load_tensors(dir_b + "/adapter_model.safetensors");
    if (!a.ok() || !b.ok()) {
        d.error = !a.ok() ? a.error().to_string() : b.error().to_string();
        return d;
    }
    std::map<std::string, torch::Tensor> mb(b->begin(), b->end());
    if (a->size() != mb.size()) {
        d.error = "tensor counts differ";
        return d;
    }
    d.max_diff = 0;
    for (const auto& [name, t] : *a) {
        auto it = mb.find(name);
        if (it == mb.end()) {
            d.error = "missing " + name;
            return d;
        }
        d.max_diff = std::max(d.max_diff, (t - it->second).abs().max().item<double>());
        if (name.find("lora_B") != std::string::npos) d.max_lora_b = std::max(d.max_lora_b, t.abs().max().item<double>());
        ++d.n_tensors;
    }
    return d;
}

std::vector<double> losses(const std::string& db, int64_t run_id) {
    auto proj = store::Project::open(db);
    std::vector<double> out;
    if (!proj.ok()) return out;
    auto s = store::RunRepo(proj->db()).metric_series(run_id, "loss");
    if (s.ok())
        for (const auto& p : *s) out.push_back(p.value);
    return out;
}

std::optional<store::Run> run_row(const std::string& db, int64_t run_id) {
    auto proj = store::Project::open(db);
    if (!proj.ok()) return std::nullopt;
    auto r = store::RunRepo(proj->db()).get(run_id);
    if (!r.ok() || !*r) return std::nullopt;
    return **r;
}

std::vector<store::RunRank> rank_rows(const std::string& db, int64_t run_id) {
    auto proj = store::Project::open(db);
    if (!proj.ok()) return {};
    auto r = store::RunRankRepo(proj->db()).list(run_id);
    return r.ok() ? std::move(r).value() : std::vector<store::RunRank>{};
}

std::string host_name() {
    char buf[256] = {0};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

std::string show(const testing::CliRun& r) { return "stdout: " + r.out.toStdString() + "\nstderr: " + r.err.toStdString(); }

}  // namespace

class TestDataParallel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    std::string path(const QString& name) { return m_dir.filePath(name).toStdString(); }

private slots:
    void initTestCase() {
        QVERIFY2(QFile::exists(testing::matrix_binary()), "the matrix binary is not built");
        QVERIFY(m_dir.isValid());
    }

    // 2 ranks x grad_accum 1 == 1 process x grad_accum 2, for both stages.
    void two_ranks_equal_one_process_data() {
        QTest::addColumn<QString>("stage");
        QTest::newRow("sft") << "sft";
        QTest::newRow("dpo") << "dpo";
    }
    void two_ranks_equal_one_process() {
        QFETCH(QString, stage);
        const std::string st = stage.toStdString();
        const std::string db = path(stage + ".db");
        make_project(db);
        const std::string one = path(stage + "-one"), two = path(stage + "-two");

        auto r1 = testing::run_matrix(train_args(st, db, one, 2), QProcessEnvironment::systemEnvironment(), 600000);
        QVERIFY2(r1.code == 0, show(r1).c_str());
        // SFT with 8 KiB buckets (several, launched from the gradient hooks as backward goes), DPO with one.
        auto env = QProcessEnvironment::systemEnvironment();
        if (st == "sft") env.insert("MATRIX_DIST_BUCKET_KB", "8");
        auto r2 = testing::run_matrix(train_args(st, db, two, 1) << "--nproc" << "2", env, 600000);
        QVERIFY2(r2.code == 0, show(r2).c_str());
        // rank 0 reports: the run, its ranks and the bucketed all-reduce
        const QByteArray buckets = st == "sft" ? "4" : "1";
        QVERIFY2(r2.out.contains("data-parallel: 2 ranks over gloo, LoRA gradients all-reduced in " + buckets + " bucket(s)"),
                 show(r2).c_str());
        // rank 0 (it has a micro-batch in every step): all 20 steps' buckets launched from hooks during backward
        QVERIFY2(r2.out.contains("gradient all-reduce: " + QByteArray::number(buckets.toInt() * 20) + " of " +
                                 QByteArray::number(buckets.toInt() * 20) + " bucket launches made from hooks"),
                 show(r2).c_str());
        QVERIFY2(r2.out.contains("optimiser steps (2 per epoch, batch 1 x accum 1 x 2 ranks)"), show(r2).c_str());
        QVERIFY2(r2.out.contains("run 2 finished"), show(r2).c_str());

        auto d = compare_adapters(one, two);
        QVERIFY2(d.error.empty(), d.error.c_str());
        QCOMPARE(d.n_tensors, size_t(2 * 4 * 2));  // A and B of q/k/v/o in 2 layers
        QVERIFY2(d.max_lora_b > 1e-3, std::to_string(d.max_lora_b).c_str());  // the adapter did train
        QVERIFY2(d.max_diff <= 1e-5, std::to_string(d.max_diff).c_str());
        qInfo("%s: max |2 ranks - 1 process| over the adapter %.3g (max |lora_B| %.3g)", st.c_str(), d.max_diff,
              d.max_lora_b);

        // the same loss curve: 20 steps (3 samples -> 2 steps per epoch, 10 epochs)
        auto l1 = losses(db, 1), l2 = losses(db, 2);
        QCOMPARE(l1.size(), size_t(20));
        QCOMPARE(l2.size(), size_t(20));
        for (size_t i = 0; i < l1.size(); ++i)
            QVERIFY2(std::abs(l1[i] - l2[i]) <= 1e-5, (std::to_string(i) + ": " + std::to_string(l1[i]) + " vs " +
                                                       std::to_string(l2[i])).c_str());
        // Each process wrote its own rank row: both finished at step 20, on this host, with their own pid and
        // throughput; the single-process run has one row.
        const auto ranks = rank_rows(db, 2);
        QCOMPARE(int(ranks.size()), 2);
        for (int r = 0; r < 2; ++r) {
            QCOMPARE(ranks[r].rank, r);
            QCOMPARE(ranks[r].world_size, 2);
            QCOMPARE(ranks[r].state, std::string("finished"));
            QCOMPARE(ranks[r].step, int64_t(20));
            QCOMPARE(ranks[r].host, host_name());
            QVERIFY(ranks[r].pid > 0);
            QVERIFY(ranks[r].tokens_per_s > 0);
            QVERIFY(!ranks[r].error);
        }
        QVERIFY(ranks[0].pid != ranks[1].pid);
        const auto single = rank_rows(db, 1);
        QCOMPARE(int(single.size()), 1);
        QCOMPARE(single[0].world_size, 1);
        QCOMPARE(single[0].state, std::string("finished"));
        QCOMPARE(single[0].step, int64_t(20));
        if (st == "dpo") {
            QVERIFY2(r2.out.contains("reference log-probs: computed 3 pairs in"), show(r2).c_str());
            QVERIFY2(r2.out.contains("(sharded over 2 ranks)"), show(r2).c_str());
            // precomputed sharded = precomputed in one process
            auto a = train::load_tensors(one + "/reference_logps.safetensors");
            auto b = train::load_tensors(two + "/reference_logps.safetensors");
            QVERIFY(a.ok() && b.ok());
            std::map<std::string, torch::Tensor> ma(a->begin(), a->end()), mb(b->begin(), b->end());
            QVERIFY(torch::equal(ma["pair_id"], mb["pair_id"]));
            QVERIFY((ma["chosen"] - mb["chosen"]).abs().max().item<double>() <= 1e-6);
            QVERIFY((ma["rejected"] - mb["rejected"]).abs().max().item<double>() <= 1e-6);
        } else {
            // the check can fail: another global batch (one process, grad_accum 1) gives another adapter
            const std::string other = path(stage + "-accum1");
            auto r3 = testing::run_matrix(train_args(st, db, other, 1), QProcessEnvironment::systemEnvironment(), 600000);
            QVERIFY2(r3.code == 0, show(r3).c_str());
            auto d3 = compare_adapters(one, other);
            QVERIFY2(d3.max_diff > 1e-3, std::to_string(d3.max_diff).c_str());
            qInfo("sft: max |grad_accum 1 - grad_accum 2| over the adapter %.3g", d3.max_diff);
        }
    }

    // torchrun-style launch (the environment set by hand), rank 1 killed mid-run.
    void killed_rank_stops_the_other_and_the_run_resumes() {
        const std::string db = path("kill.db");
        make_project(db);
        const std::string out = path("kill-out");
        const int port = train::free_local_port();
        QVERIFY(port > 0);
        QProcess ranks[2];
        qint64 pids[2] = {0, 0};
        for (int r = 0; r < 2; ++r) {
            auto env = QProcessEnvironment::systemEnvironment();
            env.insert("MASTER_ADDR", "127.0.0.1");
            env.insert("MASTER_PORT", QString::number(port));
            env.insert("RANK", QString::number(r));
            env.insert("LOCAL_RANK", QString::number(r));
            env.insert("WORLD_SIZE", "2");
            env.insert("OMP_NUM_THREADS", "1");
            env.insert("MATRIX_DIST_TIMEOUT_S", "60");
            ranks[r].setProcessEnvironment(env);
            ranks[r].start(testing::matrix_binary(), train_args("sft", db, out, 1));
            QVERIFY(ranks[r].waitForStarted());
            pids[r] = ranks[r].processId();
        }
        // Kill rank 1 once rank 0 has written checkpoint-2 (the run has 20 steps).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
        while (!fs::exists(out + "/checkpoints/checkpoint-2") && std::chrono::steady_clock::now() < deadline &&
               ranks[0].state() == QProcess::Running)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        QVERIFY2(fs::exists(out + "/checkpoints/checkpoint-2"), ranks[0].readAllStandardError().constData());
        const qint64 pid1 = ranks[1].processId();
        ::kill(static_cast<pid_t>(pid1), SIGKILL);
        QVERIFY(ranks[1].waitForFinished(30000));
        QVERIFY(ranks[0].waitForFinished(120000));
        const QByteArray err0 = ranks[0].readAllStandardError();
        const QByteArray out0 = ranks[0].readAllStandardOutput();
        QVERIFY2(ranks[0].exitCode() != 0, (out0 + err0).constData());
        const QByteArray expected = "rank 1 (pid " + QByteArray::number(pid1) + ") is gone";
        QVERIFY2(err0.contains(expected), err0.constData());
        qInfo("rank 0 said: %s", err0.trimmed().constData());
        QVERIFY2(err0.startsWith("matrix: rank 0: "), err0.constData());
        QVERIFY2(!out0.contains("step 20/20"), out0.constData());  // it stopped before the end
        auto row = run_row(db, 1);
        QVERIFY(row);
        QCOMPARE(row->status, std::string("failed"));
        QVERIFY(row->error);
        QVERIFY2(row->error->find(expected.toStdString()) != std::string::npos, row->error->c_str());
        // The ranks' rows: rank 0 failed with the run's error at its last completed step (its last logged loss);
        // rank 1, killed, marked lost by rank 0 naming its pid, at the step of its last heartbeat (at least step 1:
        // it logged step 1 before joining step 2's all-reduce, which rank 0 needed to write checkpoint-2).
        const auto rows = rank_rows(db, 1);
        QCOMPARE(int(rows.size()), 2);
        QCOMPARE(rows[0].state, std::string("failed"));
        QCOMPARE(rows[0].pid, int64_t(pids[0]));
        QCOMPARE(QString::fromStdString(rows[0].error.value_or("")), QString::fromStdString(*row->error));
        QCOMPARE(rows[0].step, int64_t(losses(db, 1).size()));
        QCOMPARE(rows[1].state, std::string("lost"));
        QCOMPARE(rows[1].pid, int64_t(pid1));
        QCOMPARE(QString::fromStdString(rows[1].error.value_or("")), QString(expected));
        QVERIFY2(rows[1].step >= 1 && rows[1].step <= rows[0].step + 1, std::to_string(rows[1].step).c_str());

        // Resume on one process: grad_accum 2 keeps the global batch, the run finishes its 20 steps.
        auto res = testing::run_matrix({"train", "resume", "--db", QString::fromStdString(db), "--resume", "1"},
                                       QProcessEnvironment::systemEnvironment(), 600000);
        QVERIFY2(res.code == 0, show(res).c_str());
        QVERIFY2(res.out.contains("resuming on 1 rank(s) (the run had 2): grad_accum 2 keeps the global batch"),
                 show(res).c_str());
        QVERIFY2(res.out.contains("step 20/20"), show(res).c_str());
        row = run_row(db, 1);
        QCOMPARE(row->status, std::string("finished"));
        QCOMPARE(losses(db, 1).size(), size_t(20));
        // resumed on one process: the run's ranks start afresh, one row, finished at step 20
        const auto resumed = rank_rows(db, 1);
        QCOMPARE(int(resumed.size()), 1);
        QCOMPARE(resumed[0].world_size, 1);
        QCOMPARE(resumed[0].state, std::string("finished"));
        QCOMPARE(resumed[0].step, int64_t(20));
        QVERIFY(!resumed[0].error);

        // ... and ends where an uninterrupted single process with the same global batch does.
        const std::string ref = path("kill-ref");
        auto r = testing::run_matrix(train_args("sft", db, ref, 2), QProcessEnvironment::systemEnvironment(), 600000);
        QVERIFY2(r.code == 0, show(r).c_str());
        auto d = compare_adapters(ref, out);
        QVERIFY2(d.error.empty(), d.error.c_str());
        QVERIFY2(d.max_diff <= 1e-5, std::to_string(d.max_diff).c_str());
        qInfo("killed at checkpoint-2, resumed on 1 process: max |adapter - uninterrupted| %.3g", d.max_diff);
    }

    // The torchrun contract is checked: a malformed variable is an error naming it.
    void bad_torchrun_environment_is_named() {
        const std::string db = path("env.db");
        make_project(db);
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("WORLD_SIZE", "2");
        env.insert("RANK", "2");
        auto r = testing::run_matrix(train_args("sft", db, path("env-out"), 1), env, 120000);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("torchrun environment: RANK 2 is not below WORLD_SIZE 2"), r.err.constData());
        env.insert("RANK", "x");
        r = testing::run_matrix(train_args("sft", db, path("env-out"), 1), env, 120000);
        QVERIFY2(r.err.contains("RANK='x' is not a non-negative integer"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestDataParallel)
#include "test_data_parallel.moc"
