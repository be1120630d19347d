// The workbench's local server: LocalServer runs `matrix serve` on the tiny fixture (a free port), reports the address
// from the server's "listening on" line, its load from /stats after a request (3 tokens), stops it with SIGTERM; a
// bad model folder is reported as a failure naming it. The main window's Agent menu holds Start / Stop Local Server,
// the status bar shows the address and load while it runs, and the Start dialog validates its form.
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QMenuBar>
#include <QSignalSpy>
#include <QtTest>

#include "core/net/http_client.h"
#include "ui/views/main_window.h"
#include "ui/views/serve_dialog.h"
#include "ui/workers/local_server.h"

using namespace matrix;
using namespace matrix::ui;

namespace {
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");
const QString k_matrix = QStringLiteral(MATRIX_BINARY_DIR "/app/matrix");

bool ask(const QString& address, int max_tokens) {
    const std::string body = R"({"messages": [{"role": "user", "content": "hi"}], "temperature": 0, "max_tokens": )" +
                             std::to_string(max_tokens) + "}";
    auto r = net::http_post_json((address + "/v1/chat/completions").toStdString(), body, {}, 5000, 60000);
    return r.ok() && r.response.status == 200;
}
}  // namespace

class TestLocalServer : public QObject {
    Q_OBJECT
    QTemporaryDir m_settings;

private slots:
    void initTestCase() {
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
        if (!QFileInfo(k_matrix).isExecutable()) QSKIP("no matrix binary");
        QProcess help;
        help.start(k_matrix, {"serve", "--help"});
        help.waitForFinished(20000);
        if (help.exitCode() != 0) QSKIP("this matrix binary has no serve subcommand");
    }

    void startLoadStop() {
        LocalServer server;
        server.setProgram(k_matrix);
        QSignalSpy started(&server, &LocalServer::started);
        QSignalSpy load(&server, &LocalServer::loadChanged);
        QSignalSpy stopped(&server, &LocalServer::stopped);
        LocalServerOptions o;
        o.modelDir = k_model;
        o.port = 0;
        o.maxBatch = 4;
        QCOMPARE(LocalServer::arguments(o),
                 QStringList({"serve", "--model", k_model, "--host", "127.0.0.1", "--port", "0", "--device", "cpu",
                              "--max-batch", "4"}));
        server.start(o);
        QCOMPARE(server.state(), LocalServer::State::Starting);
        QVERIFY(started.wait(60000));
        QCOMPARE(server.state(), LocalServer::State::Running);
        QVERIFY2(QRegularExpression("^http://127\\.0\\.0\\.1:\\d+$").match(server.address()).hasMatch(),
                 qPrintable(server.address()));
        QCOMPARE(started.first().first().toString(), server.address());
        QVERIFY(ask(server.address(), 3));
        QTRY_VERIFY_WITH_TIMEOUT(server.load().tokensGenerated == 3, 10000);
        QCOMPARE(server.load().jobsCompleted, qint64(1));
        QCOMPARE(server.load().jobsRunning, qint64(0));
        QVERIFY(load.count() >= 1);
        server.stop();
        QCOMPARE(server.state(), LocalServer::State::Stopping);
        QVERIFY(stopped.wait(20000));
        QCOMPARE(server.state(), LocalServer::State::Stopped);
        QVERIFY(server.address().isEmpty());
    }

    void badModelFails() {
        LocalServer server;
        server.setProgram(k_matrix);
        QSignalSpy failed(&server, &LocalServer::failed);
        LocalServerOptions o;
        o.modelDir = QStringLiteral("/no/such/model");
        o.port = 0;
        server.start(o);
        QVERIFY(failed.wait(30000));
        const QString msg = failed.first().first().toString();
        QVERIFY2(msg.startsWith("The server did not start") && msg.contains("/no/such/model"), qPrintable(msg));
        QCOMPARE(server.state(), LocalServer::State::Stopped);
    }

    void mainWindowMenuAndStatus() {
        MainWindow w;
        const Actions& a = w.actions();
        QMenu* agent = nullptr;
        for (QAction* m : w.menuBar()->actions())
            if (m->text() == QStringLiteral("&Agent")) agent = m->menu();
        QVERIFY(agent);
        QVERIFY(agent->actions().contains(a.startServer));
        QVERIFY(agent->actions().contains(a.stopServer));
        QVERIFY(a.startServer->isEnabled());
        QVERIFY(!a.stopServer->isEnabled());
        QVERIFY(w.serverLabel()->isHidden());
        w.localServer()->setProgram(k_matrix);
        QSignalSpy started(w.localServer(), &LocalServer::started);
        LocalServerOptions o;
        o.modelDir = k_model;
        o.port = 0;
        w.startLocalServer(o);
        QVERIFY(!a.startServer->isEnabled());
        QVERIFY(started.wait(60000));
        QVERIFY(a.stopServer->isEnabled());
        QVERIFY(!w.serverLabel()->isHidden());
        QVERIFY2(w.serverLabel()->text().startsWith("Serving " + w.localServer()->address() + " · 0 running, 0 waiting"),
                 qPrintable(w.serverLabel()->text()));
        QSignalSpy stopped(w.localServer(), &LocalServer::stopped);
        a.stopServer->trigger();
        QVERIFY(stopped.wait(20000));
        QVERIFY(w.serverLabel()->isHidden());
        QVERIFY(a.startServer->isEnabled());
    }

    void dialogValidation() {
        ServeDialog d;
        d.modelEdit()->setText("");
        QCOMPARE(d.validationMessage(), QStringLiteral("Choose the model folder."));
        d.modelEdit()->setText("/no/such");
        QCOMPARE(d.validationMessage(), QStringLiteral("The model folder has no config.json."));
        d.modelEdit()->setText(k_model);
        QCOMPARE(d.validationMessage(), QString());
        d.portSpin()->setValue(0);
        QCOMPARE(d.options().port, 0);
        QCOMPARE(d.options().host, QStringLiteral("127.0.0.1"));
        QCOMPARE(d.options().maxBatch, 32);
    }
};

QTEST_MAIN(TestLocalServer)
#include "test_local_server.moc"
