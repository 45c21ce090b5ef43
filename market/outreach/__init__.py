"""The federation's front line (四必访): contact lists and coverage, visits and the archive per
woman (working offline on a phone), needs questionnaires, training/lectures/job fairs on the
supply module's event model, and job posts by approved organisations."""
