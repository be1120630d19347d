// The workbench's main window: dockable panes over one project (an SQLite file).
#pragma once

#include <QMainWindow>

namespace matrix::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
};

}  // namespace matrix::ui
