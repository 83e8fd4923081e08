collect_ignore = ["make_dataset_reference.py"]  # needs TensorFlow; run by hand once
