// Tests for core/util: SHA-256 against FIPS 180-4 vectors; Result propagation; core/ has no Qt include.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/util/error_text.h"
#include "core/util/result.h"
#include "core/util/sha256.h"

using namespace matrix;

class TestUtil : public QObject {
    Q_OBJECT
private slots:
    void sha256_vectors_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty") << QByteArray() << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        QTest::newRow("abc") << QByteArray("abc") << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        QTest::newRow("448 bits")
            << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
        QTest::newRow("million a") << QByteArray(1000000, 'a')
                                   << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    }
    void sha256_vectors() {
        QFETCH(QByteArray, input);
        QFETCH(QString, expected);
        QCOMPARE(QString::fromStdString(sha256_hex(std::string_view(input.constData(), size_t(input.size())))),
                 expected);
    }
    void sha256_incremental_equals_oneshot() {
        std::string s(1000, 'x');
        for (size_t i = 0; i < s.size(); ++i) s[i] = char('a' + i % 26);
        Sha256 h;
        for (size_t i = 0; i < s.size(); i += 37) h.update(std::string_view(s).substr(i, 37));
        QCOMPARE(h.hex_digest(), sha256_hex(s));
    }
    void result_carries_error_context() {
        auto inner = []() -> Result<int> { return make_error("bad value", "record 3"); };
        auto outer = [&]() -> Result<int> {
            MATRIX_TRY(int v, inner());
            return v + 1;
        };
        auto r = outer();
        QVERIFY(!r.ok());
        QCOMPARE(QString::fromStdString(r.error().within("file.json").to_string()),
                 QString("file.json: record 3: bad value"));
    }
    // A LibTorch exception's text as c10::Error::what() gives it (message, then the C++ backtrace) becomes the
    // message alone; other multi-line text is joined into one line.
    void one_line_error_drops_backtraces() {
        const std::string torch_what =
            "shape '[2]' is invalid for input of size 3\n"
            "Exception raised from infer_size_impl at ../aten/src/ATen/InferSize.h:80 (most recent call first):\n"
            "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x57 (0x7f in /lib/libc10.so)\n"
            "frame #1: <unknown function> + 0x1234 (0x7f in /lib/libtorch_cpu.so)\n";
        QCOMPARE(matrix::one_line_error(torch_what), std::string("shape '[2]' is invalid for input of size 3"));
        QCOMPARE(matrix::one_line_error("model.safetensors: bad header\n  at byte 12\r\n\n"),
                 std::string("model.safetensors: bad header; at byte 12"));
        QCOMPARE(matrix::one_line_error("plain"), std::string("plain"));
        QCOMPARE(matrix::one_line_error(""), std::string(""));
    }

    // core never includes a Qt header: the engine builds and runs without Qt (MATRIX_ENGINE_ONLY, plugins).
    void core_has_no_qt_include() {
        // (Built without a raw string: moc's tokenizer misreads one that contains a preprocessor line.)
        const std::regex qt_include(std::string("^\\s*#\\s*include\\s*[<\"]") + "(Q[A-Z]\\w*|Qt\\w*/)");
        int checked = 0;
        for (auto& e : std::filesystem::recursive_directory_iterator(std::string(MATRIX_SOURCE_DIR) + "/core")) {
            if (!e.is_regular_file()) continue;
            auto ext = e.path().extension().string();
            if (ext != ".h" && ext != ".cpp") continue;
            std::ifstream in(e.path());
            std::string line;
            while (std::getline(in, line)) {
                if (std::regex_search(line, qt_include)) QFAIL(qPrintable(QString::fromStdString(e.path().string() + ": " + line)));
            }
            ++checked;
        }
        QVERIFY(checked > 0);
    }
};

QTEST_GUILESS_MAIN(TestUtil)
#include "test_util.moc"
