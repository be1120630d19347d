// Closing the main window while jobs run: MainWindow::closeEvent's "Jobs are running" dialog answered as a user would,
// and what it said. Shared by the GUI tests that close a window over running jobs (header only).
#pragma once

#include <QApplication>
#include <QMessageBox>
#include <QPushButton>
#include <QTimer>
#include <QWidget>

#include <memory>

namespace matrix::test {

struct CloseAnswer {
    bool closed = false;
    QString text, listed;  // the dialog's text and informative text (empty when no dialog came)
};

// w.close() with the dialog answered "Close, keep them running" (keep) or Cancel.
inline CloseAnswer closeAnswering(QWidget& w, bool keep) {
    auto said = std::make_shared<CloseAnswer>();
    QTimer::singleShot(200, [keep, said] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (!box) return;
        said->text = box->text();
        said->listed = box->informativeText();
        for (auto* b : box->buttons())
            if ((keep && b->text() == "Close, keep them running") || (!keep && box->buttonRole(b) == QMessageBox::RejectRole))
                b->click();
    });
    const bool closed = w.close();
    CloseAnswer out = *said;
    out.closed = closed;
    return out;
}

}  // namespace matrix::test
