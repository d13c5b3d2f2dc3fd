"""Tasks: one class per `head.type`, and the functions that go through them.

- `Task` (base) and the registry: `register_task`, `task_class`, `task_classes`.
- `Tagger`, `Classifier`, `Seq2Seq`, `Forecaster`, `Encoder` (`head.type: none`), and
  `SeriesForecaster` (`head.type: forecaster` with `data.time_column`).
- `build(spec)`: the compiled model a spec describes, sizes learned from its data.
- `load(path)`: a trained task back from a run folder or a `.keras` file.
- `load_dataset(spec, split)`: one split of a spec's data, encoded.
"""

from keras_seq.tasks.building import build, load, load_dataset
from keras_seq.tasks.classifier import Classifier
from keras_seq.tasks.encoder import Encoder
from keras_seq.tasks.forecaster import Forecaster
from keras_seq.tasks.seq2seq import Seq2Seq
from keras_seq.tasks.series_forecaster import SeriesForecaster
from keras_seq.tasks.tagger import Tagger
from keras_seq.tasks.task import TASKS, Task, register_task, task_class, task_classes
