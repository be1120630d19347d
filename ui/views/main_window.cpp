#include "ui/views/main_window.h"

#include <QLabel>

namespace matrix::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("MATRIX Workbench"));
    setCentralWidget(new QLabel(tr("MATRIX Workbench"), this));
}

}  // namespace matrix::ui
