// Painting and mouse handling of ImageCanvas (see image_canvas.h).
#include "ui/widgets/image_canvas.h"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace matrix::ui {

namespace {
const QColor kBoxColors[] = {QColor(255, 214, 0), QColor(0, 220, 255), QColor(255, 64, 160), QColor(90, 255, 90)};
}

ImageCanvas::ImageCanvas(QWidget* parent) : QWidget(parent) {
    setMinimumSize(200, 150);
    setMouseTracking(false);
    setFocusPolicy(Qt::ClickFocus);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ImageCanvas::setImage(const QImage& image) {
    m_image = image;
    m_state = image.isNull() ? State::Empty : State::Image;
    m_fit = true;
    fitToWindow();
}

void ImageCanvas::setMissing(const QString& path, const QString& lookedFor) {
    m_image = QImage();
    m_path = path;
    m_lookedFor = lookedFor;
    m_state = State::Missing;
    update();
    emit viewChanged();
}

void ImageCanvas::setLoading(const QString& path) {
    m_path = path;
    m_state = State::Loading;
    update();
}

void ImageCanvas::setBoxes(const QVector<QRectF>& boxes) {
    m_boxes = boxes;
    update();
}

void ImageCanvas::setBoxesVisible(bool visible) {
    m_boxesVisible = visible;
    update();
}

QString ImageCanvas::placeholderText() const {
    switch (m_state) {
    case State::Missing:
        return tr("Image not found\n%1\nLooked for: %2").arg(m_path, m_lookedFor.isEmpty() ? tr("(no image roots set)") : m_lookedFor);
    case State::Loading:
        return tr("Loading %1 ...").arg(m_path);
    case State::Empty:
        return tr("No image");
    case State::Image:
        break;
    }
    return {};
}

void ImageCanvas::fitToWindow() {
    m_fit = true;
    if (m_state == State::Image && !m_image.isNull()) {
        const double sx = double(width() - 8) / m_image.width(), sy = double(height() - 8) / m_image.height();
        m_scale = std::clamp(std::min(sx, sy), 0.02, 8.0);
    }
    centre();
}

void ImageCanvas::actualSize() {
    m_fit = false;
    m_scale = 1.0;
    centre();
}

void ImageCanvas::zoomIn() { zoomAt(1.25, rect().center()); }
void ImageCanvas::zoomOut() { zoomAt(0.8, rect().center()); }

void ImageCanvas::centre() {
    m_origin = QPointF((width() - m_image.width() * m_scale) / 2.0, (height() - m_image.height() * m_scale) / 2.0);
    update();
    emit viewChanged();
}

void ImageCanvas::zoomAt(double factor, QPointF pos) {
    if (m_state != State::Image) return;
    const double newScale = std::clamp(m_scale * factor, 0.02, 32.0);
    const QPointF imagePt = (pos - m_origin) / m_scale;
    m_scale = newScale;
    m_origin = pos - imagePt * m_scale;
    m_fit = false;
    update();
    emit viewChanged();
}

void ImageCanvas::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor(48, 50, 54));
    if (m_state != State::Image) {
        const QRect box = rect().adjusted(24, 24, -24, -24);
        if (m_state == State::Missing) {
            p.setPen(QPen(QColor(230, 120, 100), 2, Qt::DashLine));
            p.drawRect(box);
            p.drawLine(box.topLeft(), box.bottomRight());
            p.drawLine(box.topRight(), box.bottomLeft());
            p.fillRect(box.adjusted(20, box.height() / 2 - 60, -20, -(box.height() / 2 - 60)), QColor(48, 50, 54, 235));
        }
        p.setPen(m_state == State::Missing ? QColor(255, 190, 170) : QColor(200, 200, 200));
        QFont f = font();
        f.setPointSizeF(f.pointSizeF() * 1.1);
        p.setFont(f);
        p.drawText(box.adjusted(30, 0, -30, 0), Qt::AlignCenter | Qt::TextWrapAnywhere, placeholderText());
        return;
    }
    p.setRenderHint(QPainter::SmoothPixmapTransform, m_scale < 2.0);
    const QRectF target(m_origin, QSizeF(m_image.width() * m_scale, m_image.height() * m_scale));
    p.drawImage(target, m_image);
    if (!m_boxesVisible) return;
    p.setRenderHint(QPainter::Antialiasing);
    QFont f = font();
    f.setBold(true);
    p.setFont(f);
    for (int i = 0; i < m_boxes.size(); ++i) {
        const QRectF& b = m_boxes[i];
        const QRectF r(m_origin + b.topLeft() * m_scale, b.size() * m_scale);
        const QColor c = kBoxColors[i % 4];
        p.setPen(QPen(c, 2.5));
        p.setBrush(Qt::NoBrush);
        p.drawRect(r);
        const QString label = QString::number(i + 1);
        const QRectF lr(r.topLeft() - QPointF(0, 18), QSizeF(p.fontMetrics().horizontalAdvance(label) + 8, 18));
        p.fillRect(lr, c);
        p.setPen(Qt::black);
        p.drawText(lr, Qt::AlignCenter, label);
    }
}

void ImageCanvas::resizeEvent(QResizeEvent*) {
    if (m_fit)
        fitToWindow();
    else
        update();
}

void ImageCanvas::wheelEvent(QWheelEvent* e) {
    const double steps = e->angleDelta().y() / 120.0;
    if (steps != 0) zoomAt(std::pow(1.15, steps), e->position());
    e->accept();
}

void ImageCanvas::mousePressEvent(QMouseEvent* e) {
    if (e->button() == Qt::LeftButton && m_state == State::Image) {
        m_dragging = true;
        m_dragStart = e->pos();
        m_originAtDrag = m_origin;
        setCursor(Qt::ClosedHandCursor);
    }
}

void ImageCanvas::mouseMoveEvent(QMouseEvent* e) {
    if (!m_dragging) return;
    m_origin = m_originAtDrag + QPointF(e->pos() - m_dragStart);
    m_fit = false;
    update();
}

void ImageCanvas::mouseReleaseEvent(QMouseEvent*) {
    m_dragging = false;
    unsetCursor();
    emit viewChanged();
}

void ImageCanvas::mouseDoubleClickEvent(QMouseEvent*) {
    if (m_fit)
        actualSize();
    else
        fitToWindow();
}

}  // namespace matrix::ui
