// Tests for char_bleu against values computed by NLTK's own nltk/translate/bleu_score.py (nltk commit
// f2a92bd, January 2024; run with a stub nltk.util.ngrams because NLTK is not installed on this machine and
// cannot be), called the way MATRIX's data_formating.py calls it:
//     sentence_bleu([reference], candidate, smoothing_function=SmoothingFunction().method1)
// on Python strings (so over characters). The generating script is tests/core/formats/data/bleu_vectors.py.
#include <QtTest>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/formats/char_bleu.h"

using matrix::formats::char_bleu;

namespace {

const nlohmann::json& mtrace() {
    static const nlohmann::json d = [] {
        std::ifstream f(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
        return nlohmann::json::parse(f);
    }();
    return d;
}

// The k-th assistant turn of record r.
std::string assistant_turn(size_t r, size_t k) {
    for (const auto& t : mtrace()[r]["conversations"])
        if (t["from"] == "assistant" && k-- == 0) return t["value"].get<std::string>();
    return {};
}

}  // namespace

class TestCharBleu : public QObject {
    Q_OBJECT
private slots:
    void nltk_vectors_data() {
        QTest::addColumn<QString>("candidate");
        QTest::addColumn<QString>("reference");
        QTest::addColumn<double>("expected");
        QTest::newRow("identical") << "print(x)" << "print(x)" << 1.0;
        QTest::newRow("abd vs abc") << "abd" << "abc" << 0.24028114141347542;
        QTest::newRow("short candidate, brevity penalty") << "abc" << "abcdef" << 0.20687381245863395;
        QTest::newRow("one char: higher orders smoothed") << "a" << "a" << 0.1778279410038923;
        QTest::newRow("no unigram match") << "xyz" << "abc" << 0.0;
        QTest::newRow("empty candidate") << "" << "abc" << 0.0;
        QTest::newRow("empty reference") << "abc" << "" << 0.0;
        QTest::newRow("both empty") << "" << "" << 0.0;
        QTest::newRow("longer candidate, no penalty") << "the cat sat on the mat!!" << "the cat sat on the mat"
                                                      << 0.910879922930628;
        QTest::newRow("clipped repeats") << "aaaaaaa" << "aa" << 0.06985342056580097;
        QTest::newRow("unicode code points") << QString::fromUtf8("café ☕ 東京") << QString::fromUtf8("cafe ☕ 東京都")
                                             << 0.5341735956899847;
        QTest::newRow("astral plane") << QString::fromUtf8("smile 😀😀") << QString::fromUtf8("smile 😀")
                                      << 0.8408964152537145;
        QTest::newRow("keyword vs positional call")
            << "x = ocr(image_path=\"a.jpg\")\nprint(x)" << "x = ocr(\"a.jpg\")\nprint(x)" << 0.6347012221696429;
    }
    void nltk_vectors() {
        QFETCH(QString, candidate);
        QFETCH(QString, reference);
        QFETCH(double, expected);
        const std::string c = candidate.toStdString();
        const std::string r = reference.toStdString();
        QVERIFY2(std::abs(char_bleu(c, r) - expected) <= 1e-12,
                 qPrintable(QString("got %1, want %2").arg(char_bleu(c, r), 0, 'g', 17).arg(expected, 0, 'g', 17)));
    }

    // Real assistant turns of the M-TRACE subset (record, k-th assistant turn): candidate vs reference, the exact
    // NLTK value, and MATRIX's decision on it (a rejected candidate is kept when BLEU against the chosen < 0.3).
    void real_actions_data() {
        QTest::addColumn<int>("cand_record");
        QTest::addColumn<int>("cand_turn");
        QTest::addColumn<int>("ref_record");
        QTest::addColumn<int>("ref_turn");
        QTest::addColumn<double>("expected");
        QTest::addColumn<bool>("kept");
        QTest::newRow("r0 step0 vs r0 step1") << 0 << 0 << 0 << 1 << 0.3574233672660504 << false;
        QTest::newRow("r0 step0 vs r1 step0") << 0 << 0 << 1 << 0 << 0.1572513549497077 << true;
        QTest::newRow("r1 step0 vs r0 step0") << 1 << 0 << 0 << 0 << 0.21814223076408937 << true;
    }
    void real_actions() {
        QFETCH(int, cand_record);
        QFETCH(int, cand_turn);
        QFETCH(int, ref_record);
        QFETCH(int, ref_turn);
        QFETCH(double, expected);
        QFETCH(bool, kept);
        const std::string c = assistant_turn(size_t(cand_record), size_t(cand_turn));
        const std::string r = assistant_turn(size_t(ref_record), size_t(ref_turn));
        QVERIFY(!c.empty() && !r.empty());
        const double got = char_bleu(c, r);
        QVERIFY2(std::abs(got - expected) <= 1e-12,
                 qPrintable(QString("got %1, want %2").arg(got, 0, 'g', 17).arg(expected, 0, 'g', 17)));
        QCOMPARE(got < 0.3, kept);
    }

    void invalid_utf8_counts_bytes() {
        // Two invalid bytes are two distinct characters; the result equals the same shape in ASCII.
        const std::string bad = std::string("ab") + char(0xff) + char(0xfe);
        QCOMPARE(char_bleu(bad, bad), 1.0);
        QCOMPARE(char_bleu(std::string("ab") + char(0xff), "abc"), char_bleu("abx", "abc"));
    }
};

QTEST_GUILESS_MAIN(TestCharBleu)
#include "test_char_bleu.moc"
