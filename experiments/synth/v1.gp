# V1: slack = right side / left side of Thm 1 per configuration.
# groups (from plots.sh): the objective blocks on the top axis, the noises
# under the x axis.
set terminal pngcairo size 1300,640 noenhanced font ',11'
set output out
set logscale y
set format y '%g'
do for [k=-3:6] { set ytics add (2*10**k, 5*10**k) }
set xlabel "noise, per objective block; in each: P = 1, 2, 5, inf at noise scales 0.5 and 8 (full grid: two step-size pairs per scale)"
set ylabel "slack = bound / measured left side"
set title "V1: Thm 1 with measured constants, per configuration (mean over seeds, 95% t interval; min over seeds)"
set grid ytics lc rgb '#d0d0d0' lt 1 dt 3
set key outside right top vertical Left reverse width 1
set autoscale yfix
set offsets 0, 0, graph 0.08, graph 0.08
if (exists("groups")) { load groups }
plot data using 1:2:3 with yerrorbars pt 7 ps 0.7 lc rgb "#1f77b4" title "refined (mean, 95% CI)", \
     data using 1:4 with points pt 6 ps 0.9 lc rgb "#1f77b4" title "refined (min over seeds)", \
     data using 1:5 with points pt 2 ps 0.7 lc rgb "#ff7f0e" title "working statement (mean)", \
     data using 1:6 with points pt 4 ps 0.7 lc rgb "#2ca02c" title "Lemma 1, measured ||E_t|| (mean)", \
     1 with lines lw 2 lc rgb "#d62728" title "slack 1 (violated below)"
