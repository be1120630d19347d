// What the GUI reads out of a tool's printed observation: bounding boxes ([x1, y1, x2, y2] lists returned by
// objectlocation / facedetection) for the image overlay, and image file paths (image_edit / segmentation /
// image_generator results) so the viewer can show images produced by tools in later steps.
// Pure functions over text; thread-safe.
#pragma once

#include <QRectF>
#include <QString>
#include <QStringList>
#include <QVector>

namespace matrix::ui {

// Every group of exactly four numbers in square brackets, "[12, 30.5, 80, 96]", as a rectangle from (x1,y1) to
// (x2,y2). Groups with x2 <= x1 or y2 <= y1 are skipped (not boxes). Order of appearance is kept.
QVector<QRectF> parseBoxes(const QString& observation);

// File paths ending in .png/.jpg/.jpeg/.webp/.bmp/.gif found in the text, in order, without duplicates.
QStringList parseImagePaths(const QString& text);

}  // namespace matrix::ui
