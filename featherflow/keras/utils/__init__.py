"""``keras.utils``: data, progress, randomness and plotting helpers (re-exports only)."""

from featherflow.keras.models.data_adapter import pack_x_y_sample_weight, unpack_x_y_sample_weight
from featherflow.keras.saving.object_registration import (  # tf.keras.utils keeps these aliases
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from featherflow.keras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from featherflow.keras.utils import experimental, legacy
from featherflow.keras.utils.audio_dataset import audio_dataset_from_directory
from featherflow.keras.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, SequenceEnqueuer, TimedThread
from featherflow.keras.utils.dataset_split import split_dataset
from featherflow.keras.utils.file_utils import get_file, hash_file, validate_file
from featherflow.keras.utils.image_dataset import image_dataset_from_directory
from featherflow.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from featherflow.keras.utils.io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from featherflow.keras.utils.layer_utils import get_source_inputs, warmstart_embedding_matrix
from featherflow.keras.utils.model_visualization import model_to_dot, plot_model
from featherflow.keras.utils.numerical import normalize, to_categorical, to_ordinal
from featherflow.keras.utils.padding import pad_sequences
from featherflow.keras.utils.plotting import plot_history, show_images
from featherflow.keras.utils.progbar import Progbar
from featherflow.keras.utils.random_seed import set_random_seed
from featherflow.keras.utils.sequence import Sequence
from featherflow.keras.utils.sidecar_evaluator import SidecarEvaluator
from featherflow.keras.utils.text_dataset import text_dataset_from_directory
from featherflow.keras.utils.timeseries import timeseries_dataset_from_array
