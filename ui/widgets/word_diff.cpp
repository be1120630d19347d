// LCS word diff and its HTML rendering (see word_diff.h).
#include "ui/widgets/word_diff.h"

#include <QRegularExpression>
#include <vector>

namespace matrix::ui {

namespace {
QStringList tokens(const QString& s) {
    static const QRegularExpression re(QStringLiteral(R"(\S+\s*|\s+)"));
    QStringList out;
    auto it = re.globalMatch(s);
    while (it.hasNext()) out << it.next().captured(0);
    return out;
}
}  // namespace

QVector<DiffToken> wordDiff(const QString& a, const QString& b, int maxTokens) {
    const QStringList ta = tokens(a), tb = tokens(b);
    QVector<DiffToken> out;
    const int n = int(ta.size()), m = int(tb.size());
    if (n > maxTokens || m > maxTokens) {
        if (a == b) return {{DiffToken::Kind::Same, a}};
        return {{DiffToken::Kind::Removed, a}, {DiffToken::Kind::Added, b}};
    }
    // Compare words without their trailing whitespace so "x\n" equals "x ".
    auto key = [](const QString& t) { return t.trimmed(); };
    std::vector<std::vector<int>> L(size_t(n + 1), std::vector<int>(size_t(m + 1), 0));
    for (int i = n - 1; i >= 0; --i)
        for (int j = m - 1; j >= 0; --j)
            L[i][j] = key(ta[i]) == key(tb[j]) ? L[i + 1][j + 1] + 1 : std::max(L[i + 1][j], L[i][j + 1]);
    int i = 0, j = 0;
    while (i < n && j < m) {
        if (key(ta[i]) == key(tb[j])) {
            out.push_back({DiffToken::Kind::Same, ta[i]});
            ++i, ++j;
        } else if (L[i + 1][j] >= L[i][j + 1]) {
            out.push_back({DiffToken::Kind::Removed, ta[i++]});
        } else {
            out.push_back({DiffToken::Kind::Added, tb[j++]});
        }
    }
    while (i < n) out.push_back({DiffToken::Kind::Removed, ta[i++]});
    while (j < m) out.push_back({DiffToken::Kind::Added, tb[j++]});
    return out;
}

QString diffHtml(const QVector<DiffToken>& diff, int side) {
    QString html = QStringLiteral("<pre style='white-space:pre-wrap; margin:0'>");
    for (const DiffToken& t : diff) {
        const QString esc = t.text.toHtmlEscaped();
        if (t.kind == DiffToken::Kind::Same) {
            html += esc;
        } else if (t.kind == DiffToken::Kind::Removed && side == 0) {
            html += QStringLiteral("<span style='background-color:#cdeccd; color:#0b5d1e; font-weight:bold'>%1</span>").arg(esc);
        } else if (t.kind == DiffToken::Kind::Added && side == 1) {
            html += QStringLiteral("<span style='background-color:#f9d0cc; color:#8a1c12; font-weight:bold'>%1</span>").arg(esc);
        }
    }
    return html + QStringLiteral("</pre>");
}

double diffSimilarity(const QVector<DiffToken>& diff) {
    int same = 0, total = 0;
    for (const DiffToken& t : diff) {
        if (t.text.trimmed().isEmpty()) continue;
        total += t.kind == DiffToken::Kind::Same ? 2 : 1;
        if (t.kind == DiffToken::Kind::Same) same += 2;
    }
    return total == 0 ? 1.0 : double(same) / total;
}

}  // namespace matrix::ui
