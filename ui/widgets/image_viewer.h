// ImageViewer: every image of a task (its own pictures, then images produced by tools in later steps) as a
// thumbnail strip above an ImageCanvas, with zoom/fit controls, the pixel size, and a toggle for the box overlay
// read from tool observations. Images are decoded off the UI thread (QtConcurrent); a missing file shows a
// placeholder naming the path that was looked for. Plain data in; UI thread only.
#pragma once

#include <QFutureWatcher>
#include <QImage>
#include <QMap>
#include <QRectF>
#include <QVector>
#include <QWidget>

class QLabel;
class QListWidget;
class QToolButton;

namespace matrix::ui {

class ImageCanvas;

struct ViewerImage {
    QString label;         // "Picture 1", "Step 2 output"
    QString path;          // as written in the record
    QString resolvedPath;  // file on disk; empty when missing
    QString lookedFor;     // where it was searched (for the missing placeholder)
    int step = -1;         // step whose observation produced it (tool outputs), else -1
    QVector<QRectF> boxes; // boxes to overlay (from tool observations about this image)
    QMap<int, QVector<QRectF>> stepBoxes;  // the same boxes by the step whose tool call returned them
};

class ImageViewer : public QWidget {
    Q_OBJECT
public:
    explicit ImageViewer(QWidget* parent = nullptr);

    void setImages(const QVector<ViewerImage>& images);
    // Boxes to draw over the image with this index (e.g. the current step's objectlocation result).
    void setBoxes(int index, const QVector<QRectF>& boxes);
    void setCurrentIndex(int index);
    // The trajectory step being looked at: an image shows the boxes that step's tool calls returned for it (all
    // of its boxes on a step that returned none for it); -1 shows all boxes.
    void setStep(int step);
    int step() const { return m_step; }
    // The first image holding boxes returned by `step`, or -1.
    int indexWithBoxesOfStep(int step) const;
    int currentIndex() const { return m_current; }
    int count() const { return int(m_images.size()); }
    const ViewerImage& image(int index) const { return m_images[index]; }
    ImageCanvas* canvas() const { return m_canvas; }
    QString infoText() const;
    bool isLoading() const;

public slots:
    void setBoxesVisible(bool visible);

signals:
    void currentChanged(int index);
    void imageLoaded(int index);
    void boxesVisibleChanged(bool visible);

private:
    void loadCurrent();
    void loadThumbnails();
    void updateInfo();
    QVector<QRectF> boxesShown(const ViewerImage& image) const;

    QVector<ViewerImage> m_images;
    int m_current = -1;
    int m_step = -1;
    int m_generation = 0;     // of the main image load
    int m_setGeneration = 0;  // of the image set (thumbnails)
    ImageCanvas* m_canvas;
    QListWidget* m_thumbs;
    QLabel* m_info;
    QToolButton* m_boxesButton;
    QFutureWatcher<QImage>* m_loader;
    QFutureWatcher<QVector<QImage>>* m_thumbLoader;
};

}  // namespace matrix::ui
