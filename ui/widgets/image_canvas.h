// ImageCanvas: one image with zoom (wheel, +/-), pan (drag), fit-to-window and 1:1, an optional overlay of
// bounding boxes in image pixel coordinates, and a placeholder naming the path that was looked for when the
// image is missing. Plain data in, no store access. UI thread only.
#pragma once

#include <QImage>
#include <QRectF>
#include <QVector>
#include <QWidget>

namespace matrix::ui {

class ImageCanvas : public QWidget {
    Q_OBJECT
public:
    explicit ImageCanvas(QWidget* parent = nullptr);

    void setImage(const QImage& image);
    // Shows the missing-image placeholder: `path` as written in the record, `lookedFor` where it was searched.
    void setMissing(const QString& path, const QString& lookedFor);
    void setLoading(const QString& path);
    void setBoxes(const QVector<QRectF>& boxes);
    void setBoxesVisible(bool visible);

    bool isMissing() const { return m_state == State::Missing; }
    bool boxesVisible() const { return m_boxesVisible; }
    const QVector<QRectF>& boxes() const { return m_boxes; }
    double scale() const { return m_scale; }
    QSize imageSize() const { return m_image.size(); }
    QString placeholderText() const;

public slots:
    void fitToWindow();
    void actualSize();
    void zoomIn();
    void zoomOut();

signals:
    void viewChanged();  // zoom or pan changed

protected:
    void paintEvent(QPaintEvent*) override;
    void resizeEvent(QResizeEvent*) override;
    void wheelEvent(QWheelEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;
    void mouseDoubleClickEvent(QMouseEvent*) override;

private:
    enum class State { Empty, Loading, Image, Missing };
    void zoomAt(double factor, QPointF widgetPos);
    void centre();

    State m_state = State::Empty;
    QImage m_image;
    QString m_path, m_lookedFor;
    QVector<QRectF> m_boxes;
    bool m_boxesVisible = true;
    bool m_fit = true;
    double m_scale = 1.0;
    QPointF m_origin;  // widget position of the image's top-left corner
    QPoint m_dragStart;
    QPointF m_originAtDrag;
    bool m_dragging = false;
};

}  // namespace matrix::ui
