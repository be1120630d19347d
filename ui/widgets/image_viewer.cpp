// Layout, asynchronous decoding and thumbnail strip of ImageViewer (see image_viewer.h).
#include "ui/widgets/image_viewer.h"

#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent>

#include "ui/widgets/image_canvas.h"

namespace matrix::ui {

namespace {

constexpr int kThumb = 72;

QImage readImage(const QString& path, int maxSide) {
    QImageReader reader(path);
    reader.setAutoTransform(true);
    if (maxSide > 0) {
        const QSize s = reader.size();
        if (s.isValid() && (s.width() > maxSide || s.height() > maxSide))
            reader.setScaledSize(s.scaled(maxSide, maxSide, Qt::KeepAspectRatio));
    }
    QImage img = reader.read();
    if (maxSide > 0 && !img.isNull() && (img.width() > maxSide || img.height() > maxSide))
        img = img.scaled(maxSide, maxSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    return img;
}

QIcon thumbIcon(const QImage& img, bool missing, bool fromTool) {
    QPixmap pm(kThumb, kThumb);
    pm.fill(QColor(60, 62, 66));
    QPainter p(&pm);
    if (missing) {
        p.setPen(QPen(QColor(230, 120, 100), 2, Qt::DashLine));
        p.drawRect(4, 4, kThumb - 8, kThumb - 8);
        p.drawText(pm.rect(), Qt::AlignCenter, QObject::tr("missing"));
    } else if (!img.isNull()) {
        const QImage s = img.scaled(kThumb - 4, kThumb - 4, Qt::KeepAspectRatio, Qt::SmoothTransformation);
        p.drawImage((kThumb - s.width()) / 2, (kThumb - s.height()) / 2, s);
    }
    if (fromTool) {  // corner mark: produced by a tool
        p.setBrush(QColor(255, 170, 0));
        p.setPen(Qt::NoPen);
        p.drawPolygon(QPolygon({QPoint(kThumb - 18, 0), QPoint(kThumb, 0), QPoint(kThumb, 18)}));
    }
    return QIcon(pm);
}

}  // namespace

ImageViewer::ImageViewer(QWidget* parent)
    : QWidget(parent),
      m_canvas(new ImageCanvas(this)),
      m_thumbs(new QListWidget(this)),
      m_info(new QLabel(this)),
      m_boxesButton(new QToolButton(this)),
      m_loader(new QFutureWatcher<QImage>(this)),
      m_thumbLoader(new QFutureWatcher<QVector<QImage>>(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->setSpacing(2);

    m_thumbs->setViewMode(QListView::IconMode);
    m_thumbs->setFlow(QListView::LeftToRight);
    m_thumbs->setWrapping(false);
    m_thumbs->setMovement(QListView::Static);
    m_thumbs->setIconSize(QSize(kThumb, kThumb));
    m_thumbs->setFixedHeight(kThumb + 40);
    m_thumbs->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_thumbs->setSpacing(2);
    m_thumbs->setAccessibleName(tr("Image thumbnails"));
    layout->addWidget(m_thumbs);
    layout->addWidget(m_canvas, 1);

    auto* bar = new QHBoxLayout;
    auto addButton = [&](const QString& text, const QString& tip, auto slot) {
        auto* b = new QToolButton(this);
        b->setText(text);
        b->setToolTip(tip);
        b->setAutoRaise(true);
        connect(b, &QToolButton::clicked, m_canvas, slot);
        bar->addWidget(b);
        return b;
    };
    addButton(tr("Fit"), tr("Fit the image to the pane"), &ImageCanvas::fitToWindow);
    addButton(tr("1:1"), tr("Show actual pixels"), &ImageCanvas::actualSize);
    addButton(tr("+"), tr("Zoom in (mouse wheel)"), &ImageCanvas::zoomIn);
    addButton(tr("\u2212"), tr("Zoom out (mouse wheel)"), &ImageCanvas::zoomOut);
    m_boxesButton->setText(tr("Boxes"));
    m_boxesButton->setCheckable(true);
    m_boxesButton->setChecked(true);
    m_boxesButton->setAutoRaise(true);
    m_boxesButton->setToolTip(tr("Show the boxes returned by tools ([x1, y1, x2, y2] in observations) (B)"));
    connect(m_boxesButton, &QToolButton::toggled, this, &ImageViewer::setBoxesVisible);
    bar->addWidget(m_boxesButton);
    bar->addSpacing(8);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bar->addWidget(m_info, 1);
    layout->addLayout(bar);

    connect(m_thumbs, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && row != m_current) setCurrentIndex(row);
    });
    connect(m_canvas, &ImageCanvas::viewChanged, this, &ImageViewer::updateInfo);
    connect(m_loader, &QFutureWatcher<QImage>::finished, this, [this] {
        const int gen = m_loader->property("generation").toInt();
        if (gen != m_generation || m_current < 0) return;
        const QImage img = m_loader->result();
        if (img.isNull())
            m_canvas->setMissing(m_images[m_current].path,
                                 tr("%1 (file exists but could not be decoded)").arg(m_images[m_current].resolvedPath));
        else
            m_canvas->setImage(img);
        updateInfo();
        emit imageLoaded(m_current);
    });
    connect(m_thumbLoader, &QFutureWatcher<QVector<QImage>>::finished, this, [this] {
        if (m_thumbLoader->property("generation").toInt() != m_setGeneration) return;
        const QVector<QImage> thumbs = m_thumbLoader->result();
        for (int i = 0; i < thumbs.size() && i < m_thumbs->count(); ++i)
            m_thumbs->item(i)->setIcon(thumbIcon(thumbs[i], m_images[i].resolvedPath.isEmpty() || thumbs[i].isNull(),
                                                 m_images[i].step >= 0));
    });
    updateInfo();
}

void ImageViewer::setImages(const QVector<ViewerImage>& images) {
    ++m_setGeneration;
    m_images = images;
    m_current = -1;
    {
        QSignalBlocker block(m_thumbs);
        m_thumbs->clear();
        for (const ViewerImage& im : m_images) {
            auto* item = new QListWidgetItem(thumbIcon({}, im.resolvedPath.isEmpty(), im.step >= 0), im.label);
            item->setToolTip(im.resolvedPath.isEmpty() ? tr("%1\nmissing: %2").arg(im.path, im.lookedFor)
                                                       : tr("%1\n%2").arg(im.path, im.resolvedPath));
            m_thumbs->addItem(item);
        }
    }
    m_thumbs->setVisible(m_images.size() > 1);
    loadThumbnails();
    setCurrentIndex(m_images.isEmpty() ? -1 : 0);
}

void ImageViewer::setBoxes(int index, const QVector<QRectF>& boxes) {
    if (index < 0 || index >= m_images.size()) return;
    m_images[index].boxes = boxes;
    m_images[index].stepBoxes.clear();
    if (index == m_current) m_canvas->setBoxes(boxes);
    updateInfo();
}

QVector<QRectF> ImageViewer::boxesShown(const ViewerImage& image) const {
    auto it = image.stepBoxes.constFind(m_step);
    return it != image.stepBoxes.constEnd() ? it.value() : image.boxes;
}

void ImageViewer::setStep(int step) {
    m_step = step;
    if (m_current >= 0) m_canvas->setBoxes(boxesShown(m_images[m_current]));
    updateInfo();
}

int ImageViewer::indexWithBoxesOfStep(int step) const {
    for (int i = 0; i < m_images.size(); ++i)
        if (m_images[i].stepBoxes.contains(step)) return i;
    return -1;
}

void ImageViewer::setCurrentIndex(int index) {
    m_current = index;
    {
        QSignalBlocker block(m_thumbs);
        m_thumbs->setCurrentRow(index);
    }
    loadCurrent();
    emit currentChanged(index);
}

bool ImageViewer::isLoading() const { return m_loader->isRunning() || m_thumbLoader->isRunning(); }

void ImageViewer::setBoxesVisible(bool visible) {
    if (m_canvas->boxesVisible() == visible) return;
    m_canvas->setBoxesVisible(visible);
    if (m_boxesButton->isChecked() != visible) m_boxesButton->setChecked(visible);
    updateInfo();
    emit boxesVisibleChanged(visible);
}

void ImageViewer::loadCurrent() {
    ++m_generation;
    if (m_current < 0) {
        m_canvas->setImage(QImage());
        m_canvas->setBoxes({});
        updateInfo();
        return;
    }
    const ViewerImage& im = m_images[m_current];
    m_canvas->setBoxes(boxesShown(im));
    if (im.resolvedPath.isEmpty()) {
        m_canvas->setMissing(im.path, im.lookedFor);
        updateInfo();
        return;
    }
    m_canvas->setLoading(im.path);
    m_loader->setProperty("generation", m_generation);
    m_loader->setFuture(QtConcurrent::run(readImage, im.resolvedPath, 0));
    updateInfo();
}

void ImageViewer::loadThumbnails() {
    QStringList paths;
    for (const ViewerImage& im : m_images) paths << im.resolvedPath;
    m_thumbLoader->setProperty("generation", m_setGeneration);
    m_thumbLoader->setFuture(QtConcurrent::run([paths] {
        QVector<QImage> out;
        for (const QString& p : paths) out.push_back(p.isEmpty() ? QImage() : readImage(p, kThumb * 2));
        return out;
    }));
}

QString ImageViewer::infoText() const { return m_info->text(); }

void ImageViewer::updateInfo() {
    if (m_current < 0 || m_current >= m_images.size()) {
        m_info->setText(tr("No images for this task"));
        return;
    }
    const ViewerImage& im = m_images[m_current];
    QString text = QStringLiteral("%1/%2  ").arg(m_current + 1).arg(m_images.size());
    if (m_canvas->isMissing()) {
        text += tr("missing: %1").arg(im.path);
    } else if (m_canvas->imageSize().isValid()) {
        const QSize s = m_canvas->imageSize();
        text += tr("%1 \u00d7 %2 px \u00b7 %3%").arg(s.width()).arg(s.height()).arg(qRound(m_canvas->scale() * 100));
        if (!im.boxes.isEmpty()) text += tr(" \u00b7 %n box(es)", "", int(im.boxes.size()));
    }
    m_info->setText(text);
    m_info->setToolTip(im.resolvedPath.isEmpty() ? im.path : im.resolvedPath);
}

}  // namespace matrix::ui
