// The format dispatch shared by `matrix import` and the GUI's import job (core/formats/import_format.h): names
// round-trip, unknown names are refused, and import_file runs the format's importer (the Pref-X sample gives the
// same report as import_prefx; the same file read as M-TRACE is refused record by record).
#include <QtTest>

#include "core/formats/import_format.h"
#include "core/store/project.h"

using namespace matrix;
using namespace matrix::formats;

namespace {
const std::string kSample = std::string(MATRIX_SOURCE_DIR) + "/tests/data/prefx/prefx-sample.json";
template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
}  // namespace

class TestImportFormat : public QObject {
    Q_OBJECT
private slots:
    void names() {
        QCOMPARE(int(import_formats().size()), 3);
        QCOMPARE(import_format_name(ImportFormat::mtrace), std::string("mtrace"));
        QCOMPARE(import_format_name(ImportFormat::prefx), std::string("prefx"));
        QCOMPARE(import_format_name(ImportFormat::beam), std::string("beam"));
        for (ImportFormat f : import_formats()) QCOMPARE(parse_import_format(import_format_name(f)), std::optional(f));
        QCOMPARE(parse_import_format("csv"), std::optional<ImportFormat>());
        QCOMPARE(parse_import_format("Prefx"), std::optional<ImportFormat>());  // names are exact
        QCOMPARE(parse_import_format(""), std::optional<ImportFormat>());
    }

    void dispatch() {
        QTemporaryDir dir;
        auto p = must(store::Project::open((dir.path() + "/d.matrix").toStdString()));
        const ImportReport r = must(import_file(p.db(), ImportFormat::prefx, kSample, {}));
        QCOMPARE(r.records, int64_t(5));
        QCOMPARE(r.imported, int64_t(5));
        QCOMPARE(r.pairs, int64_t(5));
        QCOMPARE(must(p.db().query_int64("SELECT count(*) FROM pairs")), int64_t(5));

        const int64_t trajectories = must(p.db().query_int64("SELECT count(*) FROM trajectories"));
        ImportOptions as_mtrace;
        as_mtrace.dataset_name = "as-mtrace";
        const ImportReport m = must(import_file(p.db(), ImportFormat::mtrace, kSample, as_mtrace));
        QCOMPARE(m.records, int64_t(5));
        QCOMPARE(m.rejected, int64_t(5));
        QCOMPARE(m.imported, int64_t(0));
        QCOMPARE(m.pairs, int64_t(0));
        QCOMPARE(int(m.issues.size()), 5);
        QCOMPARE(m.issues[0].to_string(), kSample + ": record 0 (byte 4): missing key 'id'");
        QCOMPARE(must(p.db().query_int64("SELECT count(*) FROM trajectories")), trajectories);  // nothing added
    }
};

QTEST_GUILESS_MAIN(TestImportFormat)
#include "test_import_format.moc"
