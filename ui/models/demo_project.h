// The bundled demo project: its M-TRACE / Pref-X files and images are compiled into the binary
// (resources/resources.qrc). On first use they are copied to a writable folder and imported with the core
// importer into demo.matrix there, deterministically, so every pane has content on first start; gta_demo.json
// (the first 12 items of GTA-1's dataset.json, Apache-2.0, images not included) gets two step-mode eval runs.
// build() runs the imports (call it off the UI thread: MainWindow uses a BackgroundJob).
#pragma once

#include <QString>

#include "ui/workers/background_job.h"

namespace matrix::ui {

class DemoProject {
public:
    // <AppDataLocation>/demo (or $MATRIX_DEMO_DIR when set: tests and --screenshot use a temporary folder).
    static QString folder();
    static QString projectPath();  // folder()/demo.matrix
    // True when the demo project file exists and was built from this binary's demo content.
    static bool isBuilt();
    // Copies the demo files out of the resources and imports them into a fresh demo.matrix.
    static JobOutcome build(const Progress& progress);
    // Bumped when the demo content changes, so an old demo.matrix is rebuilt.
    static constexpr int kVersion = 3;  // 2: Pref-X pairs sit on the M-TRACE tasks; 3: two GTA eval runs
};

}  // namespace matrix::ui
