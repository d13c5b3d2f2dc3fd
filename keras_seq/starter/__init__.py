"""A commented starter spec for a data file, guessed from its content (`keras-seq init`).

The format comes from the extension (`.conllu`, `.conll`, `.csv`, `.jsonl`), or for a `.conll`
file or another extension from the first lines (`keras_seq.data.sniffing.column_format`); the
task and the columns from the first rows (flags override each guess):

- CoNLL-U: a tagger of the UPOS column.
- CoNLL columns (token lines, blank lines between sentences): a tagger of the last column by
  the first (`--input-column` / `--target-column` give indexes). When the tags are BIO, BIOES
  or IOB1 (`keras_seq.metrics.spans.scheme_of`), an entity tagger: a CRF output, character
  vectors, word dropout and, with a validation file, early stopping on `val_entity_f1`.
- A time column (ISO dates/datetimes; or whole numbers named like a step, beside a series-id
  column): a time-series forecaster (`data.time_column`). Rows repeating a time belong to
  different series, told apart by a column of few values (`data.series_id_column`). The one
  numeric column that is not a code (0/1, a weekday) is the target (ambiguous: ask for
  `--target-column`); the other numeric columns are covariates: codes known ahead
  (`data.future_covariates`), measurements only up to the forecast origin
  (`data.past_covariates`). The time step sets the window, horizon, season and calendar
  features, shortened to fit the shortest series.
- Every column numeric: a forecaster; an index-like first column (`step`, `time`, ...; or
  whole numbers counting up) is left out, the first remaining column is the target.
- Two token columns of equal length per row, one with few distinct tokens: a tagger.
- A text column and a column with few distinct short values: a classifier.
- Two text columns (e.g. `source`, `target`): seq2seq.

Sibling files named like the training file with `validation`/`dev` and `test` in place of
`train` become `data.validation` and `data.test`. The spec is validated before it is written.
"""

from keras_seq.starter.guess import TASKS, guess
from keras_seq.starter.text import sibling_files, spec_name, spec_text

__all__ = ["TASKS", "guess", "sibling_files", "spec_name", "spec_text"]
