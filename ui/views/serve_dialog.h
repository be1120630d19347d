// ServeDialog: "Start Local Server": the model folder (default: the agent dialog's), adapters as NAME=DIR (one per
// line), host and port, device and max batch for a `matrix serve` process (ui/workers/local_server.h). The Start
// button stays disabled until the model folder holds a config.json; Return starts, Esc cancels. UI thread only.
#pragma once

#include <QDialog>

#include "ui/workers/local_server.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace matrix::ui {

class ServeDialog : public QDialog {
    Q_OBJECT
public:
    explicit ServeDialog(QWidget* parent = nullptr);
    LocalServerOptions options() const;
    QString validationMessage() const;  // "" when the form can start a server

    QLineEdit* modelEdit() const { return m_model; }
    QSpinBox* portSpin() const { return m_port; }

private:
    void revalidate();

    QLineEdit* m_model;
    QPlainTextEdit* m_adapters;
    QLineEdit* m_host;
    QSpinBox* m_port;
    QComboBox* m_device;
    QSpinBox* m_maxBatch;
    QLabel* m_why;
    QPushButton* m_start;
};

}  // namespace matrix::ui
