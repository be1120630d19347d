// The pair curation flow through the main window's keyboard shortcuts: approve (A), reject with a reason (R),
// pick a side (1/2), edit the chosen action (E, with the action editor), next pending (Space), undo/redo
// (Ctrl+Z / Ctrl+Shift+Z) -- and after each step, that the project file holds the result and its history.
#include <QApplication>
#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSettings>
#include <QTimer>
#include <QUndoStack>
#include <QtTest>

#include "tests/ui/ui_fixture.h"
#include "ui/models/pair_curation_model.h"
#include "ui/models/project_session.h"
#include "ui/views/main_window.h"
#include "ui/views/pair_curation_view.h"
#include "ui/widgets/action_editor.h"

using namespace matrix;
using namespace matrix::ui;
using matrix::test::UiFixture;

class TestCuration : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void approveRejectUndoRedo();
    void pickSideAndEdit();
    void actionEditorWarnings_data();
    void actionEditorWarnings();

private:
    // Presses a key and waits for the work it started; false when that did not finish (QVERIFY(key(...))).
    [[nodiscard]] bool key(MainWindow& w, int k, Qt::KeyboardModifiers m = Qt::NoModifier) {
        QApplication::setActiveWindow(&w);  // window shortcuts need the window active (after a modal dialog too)
        QTest::keyClick(&w, Qt::Key(k), m);
        return w.waitForIdle();
    }
    QTemporaryDir m_settings;
};

void TestCuration::initTestCase() {
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
}

void TestCuration::approveRejectUndoRedo() {
    UiFixture fx;
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.openProject(fx.path);
    QVERIFY(w.waitForIdle());
    QVERIFY(w.session()->isOpen());
    PairCurationModel* c = w.curation();
    QCOMPARE(c->count(), 4);
    QCOMPARE(c->current().id, fx.pairs[0]);
    QCOMPARE(w.curationView()->progressText(), QString("\u2713 0 approved \u00b7 \u2717 0 rejected \u00b7 4 pending (of 4)"));

    // A: approve the first pair.
    QVERIFY(key(w, Qt::Key_A));
    QCOMPARE(fx.pair(0).status, std::string("approved"));
    QCOMPARE(c->current().status, QString("approved"));
    QCOMPARE(w.curationView()->progressText(), QString("\u2713 1 approved \u00b7 \u2717 0 rejected \u00b7 3 pending (of 4)"));
    // A again changes nothing and adds no undo step.
    QVERIFY(key(w, Qt::Key_A));
    QCOMPARE(c->undoStack()->count(), 1);

    // Space: next pending pair; choose a reason, R: reject.
    QVERIFY(key(w, Qt::Key_Space));
    QCOMPARE(c->current().id, fx.pairs[1]);
    QComboBox* reasons = w.curationView()->reasonBox();
    reasons->setCurrentIndex(reasons->findData(QString("wrong tool")));
    QVERIFY(key(w, Qt::Key_R));
    {
        const store::Pair p = fx.pair(1);
        QCOMPARE(p.status, std::string("rejected"));
        QCOMPARE(p.rejection_reason.value_or(""), std::string("wrong tool"));
    }
    QCOMPARE(w.curationView()->progressText(), QString("\u2713 1 approved \u00b7 \u2717 1 rejected \u00b7 2 pending (of 4)"));

    // The history in the store: one edit per changed field, in order.
    {
        auto project = test::must(store::Project::open(fx.path.toStdString()));
        auto h = test::must(store::PairRepo(project.db()).history(fx.pairs[1]));
        QCOMPARE(int(h.size()), 2);
        QCOMPARE(h[0].field, std::string("rejection_reason"));
        QCOMPARE(h[1].field, std::string("status"));
        QCOMPARE(h[1].old_value.value_or(""), std::string("pending"));
        QCOMPARE(h[1].new_value.value_or(""), std::string("rejected"));
    }

    // Ctrl+Z twice: the reject, then the reason, are reverted in the store.
    QVERIFY(key(w, Qt::Key_Z, Qt::ControlModifier));
    QCOMPARE(fx.pair(1).status, std::string("pending"));
    QCOMPARE(fx.pair(1).rejection_reason.value_or(""), std::string("wrong tool"));
    QVERIFY(key(w, Qt::Key_Z, Qt::ControlModifier));
    QCOMPARE(fx.pair(1).rejection_reason.has_value(), false);
    QCOMPARE(c->current().id, fx.pairs[1]);
    QCOMPARE(c->current().status, QString("pending"));
    // Ctrl+Shift+Z: redo the reason.
    QVERIFY(key(w, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier));
    QCOMPARE(fx.pair(1).rejection_reason.value_or(""), std::string("wrong tool"));
    QCOMPARE(fx.pair(1).status, std::string("pending"));
    // Undo everything: back to the imported state.
    while (c->undoStack()->canUndo()) QVERIFY(key(w, Qt::Key_Z, Qt::ControlModifier));
    QCOMPARE(fx.pair(0).status, std::string("pending"));
    QCOMPARE(fx.pair(1).rejection_reason.has_value(), false);
    QCOMPARE(w.curationView()->progressText(), QString("\u2713 0 approved \u00b7 \u2717 0 rejected \u00b7 4 pending (of 4)"));
}

void TestCuration::pickSideAndEdit() {
    UiFixture fx;
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    w.openProject(fx.path);
    QVERIFY(w.waitForIdle());
    PairCurationModel* c = w.curation();
    const store::Pair before = fx.pair(0);

    // 2: the rejected side is better -> swapped and approved, as one undo step.
    QVERIFY(key(w, Qt::Key_2));
    {
        const store::Pair p = fx.pair(0);
        QCOMPARE(p.chosen_action, before.rejected_action);
        QCOMPARE(p.rejected_action, before.chosen_action);
        QCOMPARE(p.chosen_observation, before.rejected_observation);
        QCOMPARE(p.status, std::string("approved"));
    }
    QCOMPARE(c->undoStack()->count(), 1);
    QVERIFY(key(w, Qt::Key_Z, Qt::ControlModifier));
    QCOMPARE(fx.pair(0).chosen_action, before.chosen_action);
    QCOMPARE(fx.pair(0).status, std::string("pending"));

    // 1: the chosen side is better -> approved.
    QVERIFY(key(w, Qt::Key_1));
    QCOMPARE(fx.pair(0).status, std::string("approved"));

    // E: edit the chosen action in the editor (modal): change the code, save.
    QString warningsSeen;
    QTimer::singleShot(0, this, [&] {
        auto* editor = qobject_cast<ActionEditor*>(QApplication::activeModalWidget());
        QVERIFY(editor);
        QCOMPARE(editor->thoughtEdit()->toPlainText(), QString("Locate the circles."));
        editor->codeEdit()->setPlainText("boxes = objectlocaton(object=\"red circle\", image_path=\"shapes.png\")");
        warningsSeen = editor->warnings().join('|');
        editor->codeEdit()->setPlainText("boxes = objectlocation(object=\"red circle\", image_path=\"shapes.png\")\nprint(len(boxes))");
        editor->accept();
    });
    QVERIFY(key(w, Qt::Key_E));
    QCOMPARE(warningsSeen, QString("Calls unknown tool(s): objectlocaton."));
    const std::string edited =
        "Thought: Locate the circles.\n\nCode:\n```py\nboxes = objectlocation(object=\"red circle\", image_path=\"shapes.png\")\nprint(len(boxes))\n```";
    QCOMPARE(fx.pair(0).chosen_action, edited);
    QCOMPARE(c->current().chosenAction, QString::fromStdString(edited));
    QVERIFY(key(w, Qt::Key_Z, Qt::ControlModifier));
    QCOMPARE(fx.pair(0).chosen_action, before.chosen_action);
    QCOMPARE(fx.pair(0).status, std::string("approved"));

    // The note is saved on Enter and undoable too.
    w.curationView()->noteEdit()->setText("check the box count");
    emit w.curationView()->noteEdited("check the box count");
    QVERIFY(w.waitForIdle());
    QCOMPARE(fx.pair(0).note.value_or(""), std::string("check the box count"));
}

void TestCuration::actionEditorWarnings_data() {
    QTest::addColumn<QString>("action");
    QTest::addColumn<QString>("warnings");
    QTest::newRow("well formed") << "Thought: t\n\nCode:\n```py\nprint(len(ocr(image_path=\"a.png\")))\n```" << "";
    QTest::newRow("unknown tool") << "Thought: t\n\nCode:\n```py\nx = detect_cars(\"a.png\")\n```"
                                  << "Calls unknown tool(s): detect_cars.";
    QTest::newRow("defined function is fine") << "Thought: t\n\nCode:\n```py\ndef f(x):\n    return x\nprint(f(2))\n```" << "";
    QTest::newRow("does not parse") << "Thought: t\n\nCode:\n```py\nprint((1 + 2)\n```"
                                    << "The code does not parse (unbalanced brackets or quotes).";
    QTest::newRow("no code") << "Thought: the answer is 4" << "The code is empty: the agent must call a tool or final_answer.";
    QTest::newRow("no thought") << "Code:\n```py\nfinal_answer(4)\n```" << "The thought is empty.";
}

void TestCuration::actionEditorWarnings() {
    QFETCH(QString, action);
    QFETCH(QString, warnings);
    QCOMPARE(ActionEditor::validate(action).join('|'), warnings);
    // The editor keeps the structure: what it composes parses back to the same thought and code.
    ActionEditor e;
    e.setAction(action + "<end_action>");
    QVERIFY(e.action().endsWith("<end_action>"));
    QVERIFY(e.action().startsWith("Thought: "));
    QVERIFY(e.action().contains("\n\nCode:\n```py\n"));
}

QTEST_MAIN(TestCuration)
#include "test_curation.moc"
