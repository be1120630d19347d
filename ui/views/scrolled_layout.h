// scrolledLayout: a dock's contents inside a scroll area that fills the dock, so the dock's minimum height stays
// small however many fields its form has (the bottom docks are tabbed together and the tallest minimum would
// otherwise set the main window's). The scroll area keeps the focused field visible as Tab moves through the form.
// UI thread only.
#pragma once

#include <QFrame>
#include <QScrollArea>
#include <QVBoxLayout>
#include <QWidget>

namespace matrix::ui {

// Lays `panel` out as one scroll area and returns the layout of the widget inside it (fill that one).
inline QVBoxLayout* scrolledLayout(QWidget* panel) {
    auto* content = new QWidget;
    content->setObjectName(QStringLiteral("scrolled_content"));
    auto* layout = new QVBoxLayout(content);
    auto* scroll = new QScrollArea(panel);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidgetResizable(true);
    scroll->setWidget(content);
    auto* outer = new QVBoxLayout(panel);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);
    return layout;
}

}  // namespace matrix::ui
