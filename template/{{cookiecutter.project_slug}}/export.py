"""Export the network of a trained checkpoint as plain PyTorch, ONNX or TorchScript.

    python export.py runs/digits_cnn/checkpoints/best.ckpt                        # best.pt, the state_dict
    python export.py runs/digits_cnn/checkpoints/best.ckpt --format onnx          # best.onnx
    python export.py runs/digits_cnn/checkpoints/best.ckpt --format torchscript   # best.torchscript.pt
    python export.py --help                                                       # every option

It prints the Python line that loads what it wrote. The formats are described in
`src/{{ cookiecutter.package_name }}/export.py`.
"""

from {{ cookiecutter.package_name }}.export import main

if __name__ == "__main__":
    main()
