// Word-level diff of two actions (chosen vs rejected) for the pair curation pane: a longest-common-subsequence
// over whitespace-separated tokens (whitespace kept attached), rendered as HTML with the words only the chosen
// side has in green and the words only the rejected side has in red. Pure functions; thread-safe.
#pragma once

#include <QString>
#include <QVector>

namespace matrix::ui {

struct DiffToken {
    enum class Kind { Same, Removed, Added };
    Kind kind;
    QString text;  // the word with its trailing whitespace
};

// Diff `a` -> `b`: Same tokens are in both, Removed only in a, Added only in b (in order of the merged sequence).
// Inputs longer than `maxTokens` each fall back to a whole-text replacement (the DP is O(n*m)).
QVector<DiffToken> wordDiff(const QString& a, const QString& b, int maxTokens = 3000);

// HTML of one side: side 0 = a (Same + Removed), side 1 = b (Same + Added). Preformatted, escaped.
QString diffHtml(const QVector<DiffToken>& diff, int side);

// Fraction of tokens of a and b that are shared, 0..1 (1 = identical), for the "similarity" label.
double diffSimilarity(const QVector<DiffToken>& diff);

}  // namespace matrix::ui
