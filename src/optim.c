/* optim.c: SGD with momentum, Adam and gradient-norm clipping (optim.h): flat loops over the
 * parameter arena. */
#include "optim.h"

#include <math.h>

void gl_sgd_step(float *params, float *velocity, const float *grads, size_t n, float lr, float momentum,
                 float weight_decay) {
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] + weight_decay * params[i];
        if (momentum != 0.0f) {
            float v = momentum * velocity[i] + g;
            velocity[i] = v;
            g = v;
        }
        params[i] -= lr * g;
    }
}

void gl_adam_step(float *params, float *m, float *v, const float *grads, size_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int t) {
    double bc1 = 1.0 - pow((double)beta1, (double)t), bc2 = 1.0 - pow((double)beta2, (double)t);
    float step = (float)(lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] + weight_decay * params[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] -= step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

float gl_clip_grad_norm(float *grads, size_t n, float max_norm) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)grads[i] * grads[i];
    float norm = (float)sqrt(s);
    float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.0f)
        for (size_t i = 0; i < n; i++) grads[i] *= coef;
    return norm;
}

