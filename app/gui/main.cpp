// `matrix-workbench`: the desktop GUI entry point.
#include <QApplication>

#include "ui/views/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName("MATRIX");
    QApplication::setApplicationName("MATRIX Workbench");
    QApplication::setApplicationVersion(MATRIX_VERSION);
    matrix::ui::MainWindow window;
    window.resize(1400, 900);
    window.show();
    return app.exec();
}
