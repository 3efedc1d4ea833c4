# V1: slack = right side / left side of Thm 1 per configuration.
set terminal pngcairo size 1100,500 noenhanced
set output out
set logscale y
set xlabel "configuration (rows of v1.md, in order)"
set ylabel "slack = bound / measured left side"
set title "V1: Thm 1 with measured constants (mean over seeds, 95% t interval; min over seeds)"
set grid
set key top left
plot data using 1:2:3 with yerrorbars pt 7 ps 0.6 title "refined step lengths (mean)", \
     data using 1:4 with points pt 6 ps 0.8 title "refined (min over seeds)", \
     data using 1:5 with points pt 2 ps 0.6 title "working statement (mean)", \
     data using 1:6 with points pt 4 ps 0.6 title "Lemma 1 with the measured ||E_t|| (mean)", \
     1 with lines lw 2 lc rgb "red" title "slack 1 (bound violated below)"
