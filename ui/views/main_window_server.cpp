// MainWindow's local server (Agent > Start Local Server / Stop Local Server): a `matrix serve` process run by
// LocalServer, its address and load in a permanent status-bar label ("Serving http://127.0.0.1:8000 · 2 running,
// 1 waiting · 140 tok/s"). Kept apart from main_window.cpp, which is long enough already.
#include <QAction>
#include <QLabel>
#include <QMessageBox>
#include <QStatusBar>

#include "ui/views/main_window.h"
#include "ui/views/serve_dialog.h"

namespace matrix::ui {

void MainWindow::setupLocalServer() {
    m_localServer = new LocalServer(this);
    m_serverLabel = new QLabel(this);
    m_serverLabel->setObjectName("server_status");
    m_serverLabel->hide();
    statusBar()->addPermanentWidget(m_serverLabel);
    connect(m_actions.startServer, &QAction::triggered, this, [this] {
        ServeDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted) startLocalServer(dialog.options());
    });
    connect(m_actions.stopServer, &QAction::triggered, m_localServer, &LocalServer::stop);
    connect(m_localServer, &LocalServer::stateChanged, this, &MainWindow::updateServerStatus);
    connect(m_localServer, &LocalServer::loadChanged, this, &MainWindow::updateServerStatus);
    connect(m_localServer, &LocalServer::started, this,
            [this](const QString& address) { statusBar()->showMessage(tr("Local server listening on %1").arg(address), 5000); });
    connect(m_localServer, &LocalServer::failed, this, [this](const QString& message) {
        statusBar()->showMessage(message, 10000);
        if (isVisible()) QMessageBox::warning(this, tr("Local server"), message);
    });
    updateServerStatus();
}

void MainWindow::startLocalServer(const LocalServerOptions& options) { m_localServer->start(options); }

void MainWindow::updateServerStatus() {
    const LocalServer::State s = m_localServer->state();
    m_actions.startServer->setEnabled(s == LocalServer::State::Stopped);
    m_actions.stopServer->setEnabled(s == LocalServer::State::Running || s == LocalServer::State::Starting);
    QString text;
    if (s == LocalServer::State::Starting) {
        text = tr("Server starting...");
    } else if (s == LocalServer::State::Stopping) {
        text = tr("Server stopping...");
    } else if (s == LocalServer::State::Running) {
        const ServerLoad& l = m_localServer->load();
        text = tr("Serving %1 · %2 running, %3 waiting · %4 tok/s")
                   .arg(m_localServer->address())
                   .arg(l.jobsRunning)
                   .arg(l.jobsWaiting)
                   .arg(l.tokensPerSecond, 0, 'f', 0);
    }
    m_serverLabel->setText(text);
    m_serverLabel->setVisible(!text.isEmpty());
    m_serverLabel->setToolTip(s == LocalServer::State::Running
                                  ? tr("matrix serve: OpenAI-compatible API at %1/v1").arg(m_localServer->address())
                                  : QString());
}

}  // namespace matrix::ui
