// Runs the built `matrix` CLI from a test and collects its exit code and output, so CLI tests check the program
// users run (argument parsing, stdout/stderr contract, exit codes) rather than the functions behind it.
#pragma once

#include <QByteArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace matrix::testing {

inline const QString& matrix_binary() {
    static const QString path = QStringLiteral(MATRIX_BINARY_DIR "/app/matrix");
    return path;
}

struct CliRun {
    int code;  // exit code, or -1 when the program crashed or did not finish in time
    QByteArray out, err;
};

inline CliRun run_matrix(const QStringList& args,
                         const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
                         int timeout_ms = 120000) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(matrix_binary(), args);
    const bool finished = p.waitForFinished(timeout_ms);
    const bool normal = finished && p.exitStatus() == QProcess::NormalExit;
    return {normal ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}

// The environment for a child `matrix` that trains or generates: one BLAS / OpenMP thread, so tests running side by
// side on a small machine do not oversubscribe its cores.
inline QProcessEnvironment quiet_blas() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("OPENBLAS_NUM_THREADS", "1");
    env.insert("OMP_NUM_THREADS", "1");
    return env;
}

}  // namespace matrix::testing
