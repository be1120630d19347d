// Precompiled header for the LibTorch translation units of matrix_engine (the only TUs that include torch).
#pragma once
#include <torch/torch.h>
