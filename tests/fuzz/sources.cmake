# Engine sources that some fuzz targets parse with, compiled into the target itself: they are torch-free, so the
# targets build without LibTorch (-DMATRIX_WITH_TORCH=OFF, the fast way to a clang fuzz build) and the corpus
# tests build in every configuration. Used by tests/fuzz/CMakeLists.txt and tests/CMakeLists.txt.
set(MATRIX_FUZZ_EXTRA_SOURCES_fuzz_model_files
    ${PROJECT_SOURCE_DIR}/core/model/config.cpp
    ${PROJECT_SOURCE_DIR}/core/training/adapter_config.cpp)
